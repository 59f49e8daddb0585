#pragma once
// The ZeroMQ plumbing every zmq_* role shares: the process-wide context, a socket opened with the
// user's options and endpoints, and whole-message send / receive that enforce
// options::max_message_size. Used by one thread at a time, like the socket it owns.

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>
#include <zmq.hpp>

#include "seam/registry.hpp"
#include "zmq_curve.hpp"
#include "zmq_reconnect.hpp"
#include "zmq_watch.hpp"
#include "zpat/core/endpoint.hpp"
#include "zpat/core/error.hpp"
#include "zpat/core/message.hpp"
#include "zpat/core/options.hpp"
#include "zpat/core/poll_handle.hpp"
#include "zpat/core/wake_signal.hpp"

namespace zpat::detail {

// The context all zpat sockets live in, so that inproc:// reaches between any two zpat roles of
// one process. Terminated at exit, after lingering messages are flushed.
zmq::context_t& zmq_context();

// Throws the zpat error for libzmq's errno after `what` failed, so that no zmq::error_t reaches
// a caller: state_error for a call out of turn (EFSM), connection_error for an unroutable peer
// (EHOSTUNREACH), context_terminated for ETERM, zpat::error otherwise, each naming the call and
// libzmq's reason.
[[noreturn]] void throw_zmq_failure(std::string_view what, int errno_value);

// A timeout as libzmq's options take it: milliseconds, -1 for none.
inline int to_int_ms(milliseconds timeout) {
    return timeout.count() < 0 ? -1 : static_cast<int>(timeout.count());
}

class zmq_socket {
  public:
    // Opens a socket of `type` in `context`, applies `opts`, then binds / connects each endpoint
    // in order. Throws: connection_error naming the endpoint that failed to bind or connect,
    // and why; option_error for CURVE options that cannot work (zmq_curve.hpp).
    zmq_socket(zmq::socket_type type, std::vector<endpoint> endpoints, const options& opts,
               zmq::context_t& context = zmq_context());

    // Closes the socket, discarding anything queued, and opens it again on the same endpoints.
    // A CURVE client whose handshakes failed connects again once its back-off ends, unless
    // `wait_out_backoff` is false (a role with a pause of its own between attempts).
    void reopen(bool wait_out_backoff = true);
    // Connects to `to` in place of the endpoints it connects to now (a failover); messages
    // waiting from or for the old ones are discarded. A SUB socket subscribes there again.
    // Throws: connection_error, as the constructor.
    void connect_instead(const endpoint& to);
    // Lowers the limit that whole messages are held to, below the per-frame ceiling libzmq was
    // given when the socket was opened (options::max_message_size): messages between the two are
    // received and dropped here, where they are counted, instead of costing their sender its
    // connection. A reopen() applies `max_size` to both.
    void limit_messages(std::size_t max_size) { options_.max_message_size = max_size; }

    // Sends all frames of `msg` as one message. Returns false when the first frame could not be
    // queued within options::send_timeout. Throws: message_size_error, state_error (no frames).
    bool send(const message& msg);
    // Sends the frames of `head` (an envelope), then those of `body`, as one message.
    bool send(const message& head, const message& body);
    // The same, but returns false at once where send() would wait for room.
    bool send_now(const message& head, const message& body);
    // Receives the next whole message into `into`, waiting up to `timeout` (forever: no limit).
    // Returns false on timeout or when a signal interrupted the wait. Messages over the size
    // limit are discarded and counted.
    bool receive(message& into, milliseconds timeout);
    // The same, for a CURVE client that would rather fail than wait when a server refuses it:
    // throws security_error with the reason once a server has refused this client's handshake
    // (at once when the last handshake was refused and none has succeeded since).
    bool receive_unless_refused(message& into, milliseconds timeout);

    // A CURVE client's reconnection after failed handshakes (zmq_reconnect.hpp), for roles
    // that wait in loops of their own: call upkeep() on each turn, wait no longer than
    // upkeep_wait() says, and beside upkeep_fd() (-1: nothing to wait on). send() and receive()
    // see to it themselves. upkeep() throws connection_error when libzmq refuses a connect.
    void upkeep() {
        if (backoff_) {
            backoff_->upkeep();
        }
    }
    milliseconds upkeep_wait(milliseconds wanted) const {
        return backoff_ ? backoff_->wait(wanted) : wanted;
    }
    int upkeep_fd() const { return backoff_ ? backoff_->fd() : -1; }
    // How long before a CURVE client refused by its server tries again (zero: it may now).
    milliseconds backoff_left() {
        upkeep();
        return backoff_ ? backoff_->left() : milliseconds{0};
    }

    // Sets a socket option. Throws: zpat's error for what libzmq refused, as every call here.
    template <class Option, class Value>
    void set(Option option, const Value& value) {
        try {
            socket_.set(option, value);
        } catch (const zmq::error_t& e) {
            throw_zmq_failure("setting a socket option", e.num());
        }
    }

    zmq::socket_t& socket() noexcept { return socket_; }
    const options& opts() const noexcept { return options_; }
    const std::vector<std::string>& endpoints() const noexcept { return resolved_; }
    std::uint64_t oversized_dropped() const noexcept { return oversized_dropped_; }
    // A CURVE server's: the key the ZAP handler let the last received message's sender in with.
    const std::string& peer_key() const noexcept { return peer_key_; }
    // After track_sources(): the descriptor of the connection the last received message came
    // from (libzmq's ZMQ_SRCFD), or -1 for one libzmq made itself (an XPUB's unsubscriptions
    // for a peer that left).
    void track_sources() noexcept { track_sources_ = true; }
    int source() const noexcept { return source_; }
    watched_counts& watched() noexcept { return *counts_; }
    // What its tcp:// and ipc:// connections went through, across reopens (zmq_watch.hpp).
    connection_counts connections() const { return counts_->snapshot(); }
    // Its tcp:// and ipc:// connections open now; safe from any thread (zmq_watch.hpp).
    std::vector<connection_info> open_connections() const { return counts_->open_connections(); }
    // zmq_poll takes a non-const handle but only reads the socket's state.
    poll_handle handle() const noexcept {
        return poll_handle::backend_socket(const_cast<void*>(socket_.handle()));
    }

  private:
    void open(bool wait_out_backoff = true);
    // Attaches the back-off to the socket just opened; true when it should not connect yet.
    bool begin_backoff(bool wait_out_backoff);
    // Binds and connects each endpoint in order (connects left to the back-off when deferred).
    void bind_and_connect(bool defer_connects);
    watched_security security_kind() const noexcept {
        if (!options_.curve) {
            return watched_security::none;
        }
        return zap_ ? watched_security::curve_server : watched_security::curve_client;
    }
    // Sets ZMQ_RCVTIMEO, where it changes (a receive loop passes the same timeout each time).
    void set_receive_timeout(milliseconds timeout) {
        const int ms = to_int_ms(timeout);
        if (ms != receive_timeout_ms_) {
            set(zmq::sockopt::rcvtimeo, ms);
            receive_timeout_ms_ = ms;
        }
    }
    // For a socket with a back-off: waits up to `timeout` for `events`, seeing to the back-off
    // meanwhile. Returns false on the timeout or a signal.
    bool wait_with_backoff(short events, milliseconds timeout);
    // Receives one frame into frame_. Returns its size, or -1 on timeout or interruption.
    int receive_frame() {
        const int size = zmq_msg_recv(frame_.handle(), socket_.handle(), 0);
        if (size < 0 && errno != EAGAIN && errno != EINTR) {
            throw_zmq_failure("receive", errno);
        }
        return size;
    }
    // What take_message() made of a message whose first frame (of `first_size` bytes) is in
    // frame_: all of it in the message given, or dropped whole as over the size limits (and
    // counted by the caller), or cut short by a signal.
    enum class taken { whole, dropped, cut };
    taken take_message(message& into, int first_size);
    // Receives and drops the rest of an oversized message.
    taken discard_rest();
    // Queues one frame with `flags` (ZMQ_SNDMORE or 0). Returns false when the high-water mark
    // held it back past the send timeout, or a signal interrupted the wait.
    bool send_frame(const std::string& frame, int flags);
    bool send_with(const message& head, const message& body, int flags);
    // Queues the frames of `frames` (at least one), each but the last with ZMQ_SNDMORE, the last
    // with `last_more` (ZMQ_SNDMORE when more frames follow), all with `flags`.
    bool send_frames(const message& frames, int flags, int last_more);
    // send_with() for a CURVE client with a back-off, which waits for room itself.
    bool send_waiting_here(const message& head, const message& body, int flags);

    zmq::context_t* context_;
    zmq::socket_type type_;
    std::vector<endpoint> endpoints_;
    options options_;
    zmq::socket_t socket_;
    std::shared_ptr<watched_counts> counts_ = std::make_shared<watched_counts>();
    std::unique_ptr<zap_registration> zap_;    // a CURVE server's allow-list
    std::unique_ptr<connection_watch> watch_;  // ends before the socket closes
    std::vector<std::string> resolved_;
    zmq::message_t frame_;
    std::string peer_key_;
    bool track_sources_ = false;
    int source_ = -1;
    int receive_timeout_ms_ = -1;
    std::uint64_t oversized_dropped_ = 0;
    // A CURVE client's; declared after socket_, so that it lets go of the socket first.
    std::unique_ptr<reconnect_backoff> backoff_;
};

// A stop request that reaches a thread waiting in zmq_poll, which takes the wake_signal's
// descriptor beside ZeroMQ sockets. The flag is the truth; the signal only wakes the poll, so a
// late wake-up costs a loop turn and never stops a later run. request() is safe from any thread.
class zmq_stop_signal {
  public:
    // Returns false when a stop was already requested.
    bool request() {
        if (flag_.exchange(true)) {
            return false;
        }
        wake_.raise();
        return true;
    }
    bool requested() const noexcept { return flag_.load(); }
    // Clears the flag and any pending wake-up, for the next run.
    void reset() {
        flag_.store(false);
        wake_.clear();
    }
    // Quiets the descriptor (the flag stays), so that a stopping loop can wait in zmq_poll.
    void drain() { wake_.clear(); }
    zmq::pollitem_t poll_item() const { return {nullptr, wake_.fd(), ZMQ_POLLIN, 0}; }

  private:
    wake_signal wake_;
    std::atomic<bool> flag_{false};
};

// A unique inproc address for a private socket of `what`.
std::string unique_inproc_name(std::string_view what);

// The process's ZeroMQ context was terminated under a call (ETERM): the process is exiting.
class context_terminated : public zpat::error {
  public:
    using zpat::error::error;
};

// zmq_poll on `items`; returns true when a signal interrupted it (nothing is ready then).
bool poll_interrupted(std::span<zmq::pollitem_t> items, milliseconds timeout);

}  // namespace zpat::detail
