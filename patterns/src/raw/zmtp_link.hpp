#pragma once
// One ZeroMQ connection of zpat's own to a peer that binds: ZMTP 3.1 under the NULL mechanism
// (zmtp_connection.hpp), made, read and written on the thread that calls it, as zmtp_socket.hpp's
// sockets are for the peers they accept. A requester, Majordomo client or worker on libzmq hands
// each message between its caller's thread and libzmq's I/O thread, a wakeup each way; on a
// link the caller's send() writes to the socket and its wait reads from it
// (docs/performance.md, "Majordomo").
//
// A link connects when it is first driven and again after each loss: at once when the lost
// connection had carried a message (a server that restarted, or closed a connection that sat
// idle), otherwise after redial_backoff's pause (100 ms, doubling to 5 s), so a server that is
// down or refuses the handshake costs no spinning. A connection whose handshake is not done
// within options::handshake_timeout of dialling is closed and counted (0, as for libzmq's
// ZMQ_HANDSHAKE_IVL, or forever: no limit). A message over max_message_size or
// max_message_frames is dropped; one whose encoding passes twice the limits closes its
// connection, counted as malformed (zmtp::decoder). At most one read's worth (64 KiB) of
// messages waits to be taken: a peer faster than the caller waits in its own TCP buffers. Not
// thread-safe, but for connections() and open_connections().

#include <poll.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/log_line.hpp"
#include "tcp_common.hpp"
#include "zmtp_connection.hpp"
#include "zpat/core/connection_counts.hpp"
#include "zpat/core/connection_info.hpp"
#include "zpat/core/endpoint.hpp"
#include "zpat/core/message.hpp"
#include "zpat/core/options.hpp"

namespace zpat::detail {

class zmtp_link {
  public:
    using clock = std::chrono::steady_clock;

    // What the link's end is: its READY's Socket-Type, the socket types it talks to, and its
    // name in the log.
    struct kind {
        std::string_view socket_type;
        std::span<const std::string_view> accepts;
        const char* name;
    };

    // To `to`, a tcp:// connect endpoint the registry has checked. Nothing is dialled yet.
    zmtp_link(const endpoint& to, const options& opts, const kind& what);
    ~zmtp_link();
    zmtp_link(const zmtp_link&) = delete;
    zmtp_link& operator=(const zmtp_link&) = delete;

    // Queues the message of `head`'s frames then `body`'s (a REQ's empty delimiter, or a
    // worker's MDP header, before the body it was given) on the connection, and writes what the
    // socket takes now. False when no connection has finished its handshake (libzmq takes no
    // message before it has sent its READY): nothing is queued, since a message kept for a
    // connection not yet made would be stale by then. Whoever must say something on each
    // connection watches connection_number().
    bool send(const message& head, const message& body);
    // Takes a message read earlier, without any I/O. False when none waits.
    bool take(message& into);
    // Ends the connection, dropping what it had queued and read; the next is dialled at once.
    void reopen();

    // For a caller that waits on several links, and on descriptors of its own, in one poll:
    // what to poll for (fd -1: nothing until due()), when the link next needs the clock
    // (clock::time_point::max(): never), and then the I/O that poll's `revents` and the clock
    // call for.
    pollfd interest() const noexcept;
    clock::time_point due() const noexcept;
    void advance(short revents);

    // Whether a connection has finished its handshake (the peer's READY has come), and a number
    // that changes each time one does.
    bool is_ready() const noexcept { return connection_ && connection_->ready(); }
    std::uint64_t connection_number() const noexcept { return ready_count_; }

    const std::string& endpoint_text() const noexcept { return url_; }
    connection_counts connections() const;
    std::vector<connection_info> open_connections() const;

  private:
    void dial();
    void dialled();
    void read_some();
    void flush();
    // Closes the connection, counted in `why` (nullptr: no reason beyond closing), and sets
    // when to dial again: at once, or after the back-off.
    void lose(std::uint64_t connection_counts::*why, bool at_once);

    endpoint to_;
    std::string url_;
    options options_;
    kind kind_;
    int fd_ = -1;
    bool dialling_ = false;  // connect(2) under way: the socket is watched for writing
    std::optional<zmtp::connection> connection_;
    clock::time_point dialled_at_{};
    clock::time_point dial_at_{};  // while closed: when to dial again
    bool carried_ = false;         // the connection read a message: losing it redials at once
    redial_backoff backoff_;
    std::size_t address_turn_ = 0;  // which of the name's addresses the next dial takes
    std::uint64_t ready_count_ = 0;
    std::deque<message> inbox_;
    std::vector<char> read_buffer_;
    throttled_log log_;

    mutable std::mutex shown_mutex_;  // what other threads read, and fd_ while they read it
    connection_counts counts_;
    std::optional<connection_info> shown_;
};

// Waits until `until` (clock::time_point::max(): without end) for the I/O `link` calls for,
// and does it.
void wait_once(zmtp_link& link, zmtp_link::clock::time_point until);

}  // namespace zpat::detail
