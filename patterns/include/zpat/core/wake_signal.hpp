#pragma once
// wake_signal: zpat's one cross-thread wake-up, used by both backends and the broker, and yours
// for waking a thread that waits in zpat::poller (poller.add_descriptor(signal.fd(), ...)). A
// descriptor that is readable while the signal is raised, so that poll(2), zmq_poll,
// zpat::poller or the raw I/O thread can wait on it beside sockets. Raising an already raised
// signal and clearing a clear one cost no syscall. Safe to raise and clear from any threads: a
// raise that crosses a clear is either taken by that clear, whose caller then checks what it
// was raised for, or leaves the descriptor readable; never lost. At worst the descriptor is
// readable with nothing to report, a spurious wake-up that the waiter's own check absorbs.

#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "zpat/core/error.hpp"

namespace zpat {

class wake_signal {
  public:
    // Throws: zpat::error when no descriptor can be had (the process is at its limit).
    wake_signal() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
        if (fd_ < 0) {
            throw error(std::string("cannot make a wake-up descriptor: ") + std::strerror(errno));
        }
    }
    ~wake_signal() { ::close(fd_); }
    wake_signal(const wake_signal&) = delete;
    wake_signal& operator=(const wake_signal&) = delete;

    // Makes the descriptor readable until clear().
    void raise() noexcept {
        if (!raised_.load(std::memory_order_relaxed) && !raised_.exchange(true)) {
            const std::uint64_t one = 1;
            (void)::write(fd_, &one, sizeof one);
        }
    }
    // Read before the flag is lowered: while it is up no raise writes, so the read takes only
    // the writes of raises already made, whose news the clearer's own check then sees. (Lowered
    // first, a raise could write in between and the read take it: the flag up, the descriptor
    // unreadable, and every later raise lost.)
    void clear() noexcept {
        if (raised_.load(std::memory_order_relaxed)) {
            std::uint64_t count = 0;
            (void)::read(fd_, &count, sizeof count);
            raised_.store(false);
        }
    }
    bool raised() const noexcept { return raised_.load(); }
    int fd() const noexcept { return fd_; }

  private:
    int fd_;
    std::atomic<bool> raised_ = false;
};

}  // namespace zpat
