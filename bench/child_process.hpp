#pragma once
// A process the benchmark starts and measures from outside: the broker, or a baseline proxy, run
// as users run them. Its stdout and stderr come back through one pipe, read line by line until it
// has said where it listens, then drained on a thread so that it never blocks on a full pipe.

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace zpat::bench {

// This program's own path, to start it again as a process the benchmark measures from outside.
std::string this_program();

// How long a started process has to say where it listens.
inline constexpr std::chrono::seconds start_limit{10};

class child_process {
  public:
    // Starts argv[0] (a path, or a name looked up on PATH). Throws std::runtime_error naming it
    // when it cannot be started.
    explicit child_process(const std::vector<std::string>& argv);
    // SIGTERM, SIGKILL if it is still there after 5 s, and reaped.
    ~child_process();
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    // The first capture of the next line of output matching `pattern`, waiting up to `limit`.
    // Throws std::runtime_error with the program's last output when it exits first or time runs
    // out. Lines that do not match are passed over.
    std::string wait_for(const std::regex& pattern, std::chrono::milliseconds limit);
    // Reads and discards the rest of the output on a thread, once wait_for is done with it,
    // until the pipe ends (or, once the process has been reaped, at most a second longer: a
    // process it started may hold the pipe open).
    void drain();
    // User + system CPU seconds of every thread of the process so far, to the nanosecond where
    // the kernel keeps scheduler statistics.
    [[nodiscard]] double cpu_seconds() const;

  private:
    std::string program_;
    pid_t pid_ = -1;
    int output_ = -1;                  // the read end of the pipe
    std::string pending_;              // output read but not yet looked at
    std::string last_;                 // the latest lines, for an error message
    std::atomic<bool> reaped_{false};  // set by the destructor, read by the drainer
    std::thread drainer_;
};

}  // namespace zpat::bench
