#pragma once
// Turns SIGINT and SIGTERM into a call, so that a verb can end cleanly (a worker tells the broker
// it is leaving) instead of dying mid-conversation. Make it before any thread that must not
// take those signals: it blocks them in the calling thread, whose mask new threads inherit, and
// a thread of its own waits for them on a signalfd beside a wake_signal that ends it. A second
// signal ends the process at once (exit status 128 + signal), as a second Ctrl-C should.

#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <functional>
#include <thread>

#include "zpat/core/wake_signal.hpp"

namespace zpat::cli {

class stop_signals {
  public:
    explicit stop_signals(std::function<void(int)> on_signal) : on_signal_(std::move(on_signal)) {
        sigemptyset(&set_);
        sigaddset(&set_, SIGINT);
        sigaddset(&set_, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &set_, &previous_);
        fd_ = ::signalfd(-1, &set_, SFD_CLOEXEC);
        waiter_ = std::thread([this] { wait(); });
    }
    ~stop_signals() {
        done_.raise();
        waiter_.join();
        ::close(fd_);
        pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
    }
    stop_signals(const stop_signals&) = delete;
    stop_signals& operator=(const stop_signals&) = delete;

    // The signal that arrived, or 0.
    int received() const noexcept { return received_.load(); }
    // For a child about to exec: the signals as they were, so that Ctrl-C reaches it.
    static void unblock_in_child() {
        sigset_t none;
        sigemptyset(&none);
        pthread_sigmask(SIG_SETMASK, &none, nullptr);
    }

  private:
    void wait() {
        pollfd fds[2] = {{fd_, POLLIN, 0}, {done_.fd(), POLLIN, 0}};
        while (fds[1].revents == 0) {
            if (::poll(fds, 2, -1) < 0 || (fds[0].revents & POLLIN) == 0) {
                continue;
            }
            signalfd_siginfo info{};
            if (::read(fd_, &info, sizeof info) != static_cast<ssize_t>(sizeof info)) {
                continue;
            }
            const int signal = static_cast<int>(info.ssi_signo);
            if (received_.exchange(signal) != 0) {
                std::_Exit(128 + signal);  // the second Ctrl-C: the user will not wait
            }
            on_signal_(signal);
        }
    }

    std::function<void(int)> on_signal_;
    sigset_t set_{};
    sigset_t previous_{};
    int fd_ = -1;
    wake_signal done_;
    std::atomic<int> received_{0};
    std::thread waiter_;
};

}  // namespace zpat::cli
