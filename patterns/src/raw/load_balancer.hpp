#pragma once
// load_balancer: sends each message to the next pipe in turn that has room, as libzmq's lb
// does for PUSH and REQ: a pipe at its high-water mark is passed over, and when every pipe is
// full the send waits (options::send_timeout) for one to make room.

#include <cstddef>
#include <mutex>
#include <optional>

#include "pipe_set.hpp"
#include "zpat/core/message.hpp"

namespace zpat::detail {

class load_balancer {
  public:
    explicit load_balancer(pipe_set& pipes) : pipes_(pipes) {}

    // Returns false when no pipe had room within the send timeout.
    bool send(const message& msg) {
        std::unique_lock lock(pipes_.mutex());
        std::optional<pipe_set::clock_type::time_point> deadline;
        for (;;) {
            if (pipe* next = pick()) {
                pipes_.enqueue(*next, msg);
                return true;
            }
            if (!pipes_.wait_for_room(lock, deadline)) {
                return false;
            }
        }
    }

    // Makes the next send start at the pipe the last one went to (a requester staying with the
    // server that answered).
    void repeat_last() {
        const std::lock_guard lock(pipes_.mutex());
        next_ = last_;
    }

  private:
    // With the mutex held: the next pipe in turn with room, which becomes the last one used.
    pipe* pick() {
        const auto& peers = pipes_.peers();
        const std::size_t n = peers.size();
        for (std::size_t k = 0; k < n; ++k) {
            const std::size_t index = (next_ + k) % n;
            if (pipes_.has_room(*peers[index])) {
                last_ = index;
                next_ = (index + 1) % n;
                return peers[index].get();
            }
        }
        return nullptr;
    }

    pipe_set& pipes_;
    std::size_t next_ = 0;  // guarded by the mutex, as last_
    std::size_t last_ = 0;
};

}  // namespace zpat::detail
