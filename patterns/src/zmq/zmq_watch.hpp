#pragma once
// connection_watch: what libzmq's socket monitor says about one socket's connections, counted
// into a connection_counts and logged when libzmq closes a connection for a reason.
//
// libzmq sends monitor events with a blocking send, so a monitor that is not read stalls the
// socket's I/O thread. One watcher thread per process therefore reads every watched socket's
// events as they come, and counts them into the watch's counters (read from any thread).
//
// What libzmq 4.3 tells, and so what is counted:
//  - opened: each connection accepted or made (ZMQ_EVENT_ACCEPTED / CONNECTED);
//  - closed: each that ended (ZMQ_EVENT_DISCONNECTED), for whatever reason;
//  - handshake_timeouts: handshakes given up with no detail and the timer's errno (EAGAIN);
//    the same event with another errno is a peer that left during its handshake, not counted;
//  - refused: mechanism or authentication failures (ZMQ_EVENT_HANDSHAKE_FAILED_AUTH and the
//    protocol failures that name a mechanism or ZAP; and, on a CURVE client, a handshake the
//    server ended);
//  - malformed: the other ZMTP protocol failures.
// libzmq closes a connection whose peer has the wrong socket type, or sends a frame over
// options::max_message_size, without saying why: those count as closed only. What is logged is
// throttled per socket (core/log_line.hpp), so a peer cannot flood the log.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>
#include <zmq.hpp>

#include "zpat/core/connection_counts.hpp"
#include "zpat/core/connection_info.hpp"
#include "zpat/core/wake_signal.hpp"

namespace zpat::detail {

// The counters a socket keeps across the watches of its reopens. Written by the watcher thread.
struct watched_counts {
    std::atomic<std::uint64_t> opened{0}, closed{0}, refused{0}, malformed{0},
        handshake_timeouts{0};
    // Connections zpat itself ended for going past a limit (zmq_subscription_limits.hpp).
    std::atomic<std::uint64_t> over_limits{0};

    // A CURVE client's refusal: raised when a server refuses it and cleared when a handshake
    // succeeds, so that a requester waiting for a reply can end with the reason instead of a
    // silent timeout. Made by the socket (for CURVE clients only) before it is watched.
    std::unique_ptr<wake_signal> refusal;

    void refuse(std::string why) {
        const std::lock_guard lock(mutex_);
        reason_ = std::move(why);
        refusal->raise();
    }
    std::string reason() const {
        const std::lock_guard lock(mutex_);
        return reason_;
    }

    // A CURVE client's failed handshakes, for its reconnection (zmq_reconnect.hpp): libzmq is
    // told to give up on an endpoint after one, and the socket connects to it again after a
    // back-off. Raised with each failure, cleared by the socket as it takes the endpoints. Made
    // by the socket (for CURVE clients only) before it is watched.
    std::unique_ptr<wake_signal> stopped;
    std::atomic<std::uint64_t> handshakes_ok{0};

    void note_stopped(std::string_view endpoint) {
        {
            const std::lock_guard lock(mutex_);
            if (std::find(stopped_.begin(), stopped_.end(), endpoint) == stopped_.end()) {
                stopped_.emplace_back(endpoint);  // at most one per endpoint connected to
            }
        }
        stopped->raise();
    }
    std::vector<std::string> take_stopped() {
        const std::lock_guard lock(mutex_);
        return std::exchange(stopped_, {});
    }

    // The connections open now, by descriptor, as the monitor of the socket's current watch
    // tells them: from accepted or connected until disconnected. A watch that ends (the socket
    // closes or reopens) takes its connections with it, and its late events are ignored.
    std::uint64_t begin_watch();  // returns the new watch's number; the old one's are gone
    void track_open(std::uint64_t watch, int fd, connection_info info);
    void track_closed(std::uint64_t watch, int fd);
    std::vector<connection_info> open_connections() const;

    connection_counts snapshot() const {
        return {.opened = opened.load(),
                .closed = closed.load(),
                .refused = refused.load(),
                .malformed = malformed.load(),
                .handshake_timeouts = handshake_timeouts.load(),
                .over_limits = over_limits.load()};
    }

  private:
    mutable std::mutex mutex_;
    std::string reason_;
    std::vector<std::string> stopped_;
    std::uint64_t watch_ = 0;
    std::map<int, connection_info> open_;
};

struct watched_socket;  // shared by a watch and the watcher thread

// Who is at the other end of descriptor `fd`: "address:port" over TCP, "pid N" over IPC when
// the kernel tells it, "" when the connection is gone already.
std::string peer_of_descriptor(int fd);

// What a watched socket's security makes of its handshake failures.
//  - curve_server: a refused client key is logged by the ZAP handler, with the client's
//    address; the watch counts it only.
//  - curve_client: the server refusing this client's key, and a server that drops the
//    connection during the handshake (a wrong server key, or a server without CURVE), are
//    counted as refused and logged with what to check.
enum class watched_security { none, curve_server, curve_client };

class connection_watch {
  public:
    // Starts watching `socket`, counting into `counts`; `name` names the socket in the log.
    // Made before the socket binds or connects, so that no event is missed.
    // Throws: zpat::error when libzmq cannot monitor the socket (at its socket limit).
    connection_watch(zmq::socket_t& socket, std::shared_ptr<watched_counts> counts,
                     std::string name, watched_security security = watched_security::none);
    // Stops watching; the socket must still be open.
    ~connection_watch();
    connection_watch(const connection_watch&) = delete;
    connection_watch& operator=(const connection_watch&) = delete;

  private:
    std::shared_ptr<watched_socket> watched_;
};

}  // namespace zpat::detail
