#include "child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX declares it nowhere

namespace zpat::bench {
namespace {

using clock = std::chrono::steady_clock;

// posix_spawn's actions, released however the constructor leaves.
struct spawn_actions {
    posix_spawn_file_actions_t actions{};
    spawn_actions() { posix_spawn_file_actions_init(&actions); }
    ~spawn_actions() { posix_spawn_file_actions_destroy(&actions); }
    spawn_actions(const spawn_actions&) = delete;
    spawn_actions& operator=(const spawn_actions&) = delete;
};

// The nanoseconds a thread has run, from the first field of its schedstat.
double thread_seconds(const std::filesystem::path& task) {
    std::ifstream in(task / "schedstat");
    unsigned long long ns = 0;
    return in >> ns ? static_cast<double>(ns) / 1e9 : -1;
}

// utime + stime from /proc/PID/stat, in clock ticks: where schedstat is missing.
double stat_seconds(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    const std::string line((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto name_end = line.rfind(')');
    if (name_end == std::string::npos) {
        return 0;
    }
    std::istringstream fields(line.substr(name_end + 2));
    std::string skipped;
    for (int i = 3; i < 14; ++i) {  // state (3) to cmajflt (13)
        fields >> skipped;
    }
    unsigned long long user = 0;
    unsigned long long system = 0;
    fields >> user >> system;
    return static_cast<double>(user + system) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

}  // namespace

std::string this_program() {
    return std::filesystem::read_symlink("/proc/self/exe").string();
}

child_process::child_process(const std::vector<std::string>& argv) : program_(argv.at(0)) {
    std::array<int, 2> pipe_ends{};
    if (::pipe2(pipe_ends.data(), O_CLOEXEC) != 0) {
        throw std::runtime_error("cannot make a pipe for " + program_ + ": " +
                                 std::strerror(errno));
    }
    output_ = pipe_ends[0];
    spawn_actions spawn;
    posix_spawn_file_actions_addopen(&spawn.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&spawn.actions, pipe_ends[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&spawn.actions, pipe_ends[1], STDERR_FILENO);
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const std::string& arg : argv) {
        args.push_back(const_cast<char*>(arg.c_str()));  // NOLINT: exec's signature, not written
    }
    args.push_back(nullptr);
    const int failed =
        ::posix_spawnp(&pid_, program_.c_str(), &spawn.actions, nullptr, args.data(), environ);
    ::close(pipe_ends[1]);
    if (failed != 0) {
        ::close(output_);
        throw std::runtime_error("cannot start " + program_ + ": " + std::strerror(failed));
    }
}

child_process::~child_process() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    const auto deadline = clock::now() + std::chrono::seconds(5);
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
        if (clock::now() > deadline) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status, 0);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    reaped_.store(true);
    if (drainer_.joinable()) {
        drainer_.join();
    }
    ::close(output_);
}

std::string child_process::wait_for(const std::regex& pattern, std::chrono::milliseconds limit) {
    const auto deadline = clock::now() + limit;
    const auto fail = [&](const std::string& why) {
        return std::runtime_error(program_ + " " + why + "; its last output:\n" + last_);
    };
    for (;;) {
        for (auto end = pending_.find('\n'); end != std::string::npos; end = pending_.find('\n')) {
            const std::string line = pending_.substr(0, end);
            pending_.erase(0, end + 1);
            last_ += line + "\n";
            if (last_.size() > 4096) {
                last_.erase(0, last_.size() - 4096);
            }
            if (std::smatch m; std::regex_search(line, m, pattern)) {
                return m.size() > 1 ? m[1].str() : m[0].str();
            }
        }
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
        if (left.count() <= 0) {
            throw fail("did not say what was expected within " + std::to_string(limit.count()) +
                       " ms");
        }
        pollfd ready{.fd = output_, .events = POLLIN, .revents = 0};
        if (::poll(&ready, 1, static_cast<int>(left.count())) <= 0) {
            continue;  // timed out (checked above) or interrupted
        }
        std::array<char, 4096> chunk{};
        const ssize_t got = ::read(output_, chunk.data(), chunk.size());
        if (got <= 0) {
            throw fail("exited");
        }
        pending_.append(chunk.data(), static_cast<std::size_t>(got));
    }
}

void child_process::drain() {
    drainer_ = std::thread([this] {
        std::array<char, 4096> chunk{};
        clock::time_point give_up{};
        for (;;) {
            pollfd ready{.fd = output_, .events = POLLIN, .revents = 0};
            if (::poll(&ready, 1, 100) > 0 && ::read(output_, chunk.data(), chunk.size()) <= 0) {
                return;  // the pipe has ended with the process
            }
            if (!reaped_.load()) {
                continue;
            }
            // The process is gone but the pipe is open: something it started holds the other
            // end (a --broker wrapper that forked the broker instead of exec'ing it). Waiting
            // for that would never end.
            const auto now = clock::now();
            if (give_up == clock::time_point{}) {
                give_up = now + std::chrono::seconds(1);
            } else if (now >= give_up) {
                std::fprintf(stderr,
                             "zpat bench: %s has ended, but a process it started still holds its "
                             "output and may still run (a wrapper should exec what it wraps)\n",
                             program_.c_str());
                return;
            }
        }
    });
}

double child_process::cpu_seconds() const {
    const std::filesystem::path tasks = "/proc/" + std::to_string(pid_) + "/task";
    double total = 0;
    std::error_code error;
    for (const auto& task : std::filesystem::directory_iterator(tasks, error)) {
        const double seconds = thread_seconds(task.path());
        if (seconds < 0) {
            return stat_seconds(pid_);
        }
        total += seconds;
    }
    return total;
}

}  // namespace zpat::bench
