#pragma once
// Helpers shared by the tests: ephemeral endpoints per transport, and waiting on a condition with
// a deadline instead of sleeping.

#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>

namespace zpat::testing {

using namespace std::chrono_literals;

// An endpoint a role can bind on `transport` that no other test uses: an ephemeral loopback port,
// a fresh ipc path or a fresh inproc name.
inline std::string any_endpoint(const std::string& transport) {
    static std::atomic<unsigned> counter{0};
    if (transport == "tcp") {
        return "tcp://127.0.0.1:*";
    }
    if (transport == "ipc") {
        return "ipc://*";
    }
    if (transport == "raw+tcp") {
        return "raw+tcp://127.0.0.1:*";
    }
    if (transport == "raw+udp") {
        return "raw+udp://127.0.0.1:*";
    }
    return "inproc://zpat-test-" + std::to_string(counter.fetch_add(1));
}

// An ipc endpoint nobody listens on: connecting to it succeeds and messages stay queued.
inline std::string absent_endpoint() {
    static std::atomic<unsigned> counter{0};
    return "ipc:///tmp/zpat-test-absent-" + std::to_string(::getpid()) + "-" +
           std::to_string(counter.fetch_add(1));
}

// A loopback TCP port that nobody listens on and that stays so until a role binds it: the port
// is held by a bound socket that never listens, so connecting is refused and the kernel hands
// the port to no other test's bind to port 0, while a listener that sets SO_REUSEADDR (both
// backends do) can still bind it. Unlike a role bound once and dropped, nothing lingers: a
// ZeroMQ socket closes its listener later, in an I/O thread, and may accept a connection first.
class reserved_port {
  public:
    reserved_port() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
        const int on = 1;
        ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t size = sizeof address;
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
            throw std::runtime_error("could not reserve a loopback port");
        }
        port_ = ntohs(address.sin_port);
    }
    ~reserved_port() { ::close(fd_); }
    reserved_port(const reserved_port&) = delete;
    reserved_port& operator=(const reserved_port&) = delete;

    // "tcp://127.0.0.1:PORT" for `transport` "tcp", likewise for "raw+tcp".
    [[nodiscard]] std::string endpoint(const std::string& transport) const {
        return transport + "://127.0.0.1:" + std::to_string(port_);
    }

  private:
    int fd_;
    unsigned port_ = 0;
};

// Polls `condition` until it holds or `limit` passes. Returns whether it held.
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds limit = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!condition()) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        std::this_thread::yield();
    }
    return true;
}

// The threads this process runs now.
inline std::size_t thread_count() {
    std::size_t count = 0;
    DIR* tasks = ::opendir("/proc/self/task");
    if (tasks == nullptr) {
        return 0;
    }
    while (const dirent* entry = ::readdir(tasks)) {
        count += entry->d_name[0] != '.' ? 1 : 0;
    }
    ::closedir(tasks);
    return count;
}
// True when every thread of this process but the caller is asleep in the kernel (state S in
// /proc): none is running or runnable, so each is inside some wait. With nothing else to do, a
// server thread that is asleep is in its own wait, which is what a test of waking it needs.
inline bool other_threads_asleep() {
    const std::string self = std::to_string(::gettid());
    DIR* tasks = ::opendir("/proc/self/task");
    if (tasks == nullptr) {
        return false;
    }
    bool asleep = true;
    while (const dirent* entry = ::readdir(tasks)) {
        const std::string tid = entry->d_name;
        if (tid == "." || tid == ".." || tid == self) {
            continue;
        }
        std::ifstream stat("/proc/self/task/" + tid + "/stat");
        std::string line;
        std::getline(stat, line);
        // The state follows the command name, which is in parentheses and may hold spaces.
        const auto paren = line.rfind(')');
        if (paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] != 'S') {
            asleep = false;
        }
    }
    ::closedir(tasks);
    return asleep;
}

// Waits until the other threads have been asleep (other_threads_asleep) on `checks` checks in a
// row, 1 ms apart, for up to `limit`. Returns whether they were.
inline bool others_settle_asleep(int checks = 20, std::chrono::milliseconds limit = 5s) {
    int in_a_row = 0;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (in_a_row < checks) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        in_a_row = other_threads_asleep() ? in_a_row + 1 : 0;
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

}  // namespace zpat::testing
