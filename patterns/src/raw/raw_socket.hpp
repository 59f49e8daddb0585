#pragma once
// The raw backend's one socket: TCP connections speaking docs/wire-format.md, run by the
// process's raw I/O thread (io_thread.hpp, as libzmq runs an I/O thread), with per-peer
// outbound queues bounded by the high-water mark and one inbound queue the user's thread
// drains. Every public member is safe to call from any thread; a role uses it from one thread,
// as with ZeroMQ.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "wire.hpp"
#include "zpat/core/connection_counts.hpp"
#include "zpat/core/endpoint.hpp"
#include "zpat/core/message.hpp"
#include "zpat/core/options.hpp"

namespace zpat::detail {

class raw_socket {
  public:
    using peer_id = std::uint64_t;

    // Binds and starts dialling. Throws: connection_error naming the endpoint that could not be
    // bound (address in use, unknown host).
    raw_socket(wire::role self, std::vector<endpoint> endpoints, const options& opts);
    // Waits up to options::linger for queued messages to be written, then closes everything.
    ~raw_socket();
    raw_socket(const raw_socket&) = delete;
    raw_socket& operator=(const raw_socket&) = delete;

    // To the next connected peer in turn that has room, waiting up to options::send_timeout for
    // one (pusher, requester). Returns false on timeout.
    bool send_round_robin(const message& msg);
    // To every peer with a subscription matching frame 0 (publisher). A peer at its high-water
    // mark loses the message, counted in dropped(); or, with `wait_for_room`, the call waits up
    // to options::send_timeout for room at every matching peer and returns false if none came.
    bool send_to_subscribers(const message& msg, bool wait_for_room);
    // To one peer (replier). Returns false when that peer has gone.
    bool send_to(peer_id peer, const message& msg);

    // The next inbound message and the peer it came from. Returns false on timeout or after
    // interrupt().
    bool receive(message& into, milliseconds timeout, peer_id* from = nullptr);
    // Makes current and future receive() calls return false until clear_interrupt().
    void interrupt();
    void clear_interrupt();

    // Subscriber: adds or removes a prefix and tells every connected publisher. Replayed to
    // each new connection. A removal also drops what already arrived for it, still unreceived.
    void subscribe(std::string_view prefix, bool add);
    // Publisher: subscriptions received so far, and a wait for a number of them.
    std::size_t subscriptions_seen() const;
    bool wait_for_subscriptions(std::size_t count, milliseconds timeout);

    // Requester: drops every connection (and anything they might still deliver) and redials.
    void reset();

    const std::vector<std::string>& endpoints() const noexcept { return resolved_; }
    std::uint64_t dropped() const;
    // What its connections went through. Thread-safe.
    connection_counts counts() const;
    // Readable while inbound messages wait: what zpat::poller waits on. Kept up from the first
    // call on (until then, receive() alone wakes on arrivals).
    int readable_fd() const;

  private:
    struct state;
    // With the mutex held: gives the storage of the batch handed out back to the decoders and
    // takes the next batch from the inbound queue.
    void take_batch();
    // The next message of the batch, without a lock.
    void hand_out(message& into, peer_id* from);

    std::shared_ptr<state> state_;  // shared with its handlers on the I/O thread
    std::vector<std::string> resolved_;
    // A puller or subscriber takes its inbound messages in batches, one lock a batch rather than
    // one a message: its receive() runs on one thread, as a ZeroMQ socket's does. A replier's
    // may run on a pool of threads, so it takes one message at a time.
    static constexpr std::size_t batch_limit = 256;
    bool batched_;
    std::vector<message> taken_;  // handed out up to next_taken_
    std::vector<peer_id> taken_from_;
    std::size_t next_taken_ = 0;
    std::size_t taken_bytes_ = 0;     // of the storage the caller gave back for those handed out
    mutable bool fd_wanted_ = false;  // a poller waits on readable_fd()
};

}  // namespace zpat::detail
