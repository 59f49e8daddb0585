#pragma once
// A ZeroMQ ROUTER of zpat's own: ZMTP 3.x (NULL mechanism) on its own TCP sockets, read and
// written on the thread that calls it. libzmq hands every message between its I/O thread and
// the caller's, a wakeup each way; a broker that routes every message it reads pays for two of
// them per hop. This one does its I/O inside receive() and send(), so a message read is routed
// and written by the same thread, without a wakeup in between (docs/performance.md,
// "Majordomo"). Its sockets wait in one epoll set, whose descriptor fd() a poller waits on.
// (Hand-rolled over epoll, not Asio: the poller seam waits on a descriptor, which Asio's
// reactor does not hand out.)
//
// As libzmq's ROUTER with ZMQ_ROUTER_MANDATORY: every received message starts with the identity
// of its sender (its READY's Identity if it gave one not in use, else 0x00 and a counter); a
// message to an identity not connected fails and is counted. Receiving is bounded: the sockets
// are read only when what was read before has been taken, so a sender faster than the caller
// waits in its own TCP buffers. A message over max_message_size (or max_message_frames) is
// dropped and counted; one whose encoding passes twice the limits closes its connection
// (zmtp::decoder). Out of descriptors, it
// stops accepting for 100 ms at a time instead of spinning. A poller that watches it beside
// plain descriptors hands those to it, and it waits for them in its own epoll set
// (wait_beside). Not thread-safe, but for connections() and open_connections().

#include <chrono>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/log_line.hpp"
#include "core/waits_itself.hpp"
#include "zpat/core/connection_counts.hpp"
#include "zpat/core/connection_info.hpp"
#include "zpat/core/endpoint.hpp"
#include "zpat/core/message.hpp"
#include "zpat/core/options.hpp"

namespace zpat::detail {

class zmtp_router final : public waits_itself {
  public:
    // Binds every endpoint of `binds` (tcp only). Throws: connection_error naming the endpoint.
    zmtp_router(const std::vector<endpoint>& binds, const options& opts);
    ~zmtp_router();
    zmtp_router(const zmtp_router&) = delete;
    zmtp_router& operator=(const zmtp_router&) = delete;

    // The next message, its sender's identity first, waiting up to `timeout` while doing the
    // I/O that is ready. False on timeout.
    bool receive(message& into, milliseconds timeout);
    // Queues frames 1.. of `msg` to the peer frame 0 names, and writes what the socket takes.
    // False when that peer is not connected (counted in unroutable()) or has
    // send_high_water_mark messages (or send_high_water_bytes) unwritten.
    bool send(const message& msg);

    // Readable when there is I/O to do or a message waiting: wait on it, then call receive().
    int fd() const noexcept { return epoll_; }
    // A poller's wait (core/waits_itself.hpp): `others` join the epoll set until the next change
    // of generation, or until a receive() sees one of them readable (neither a receive() that
    // waits nor a wait on fd() spins on them).
    bool wait_beside(std::span<pollfd> others, std::uint64_t generation,
                     milliseconds timeout) override;
    const std::vector<std::string>& endpoints() const noexcept { return endpoints_; }
    std::uint64_t unroutable() const noexcept { return unroutable_; }
    std::uint64_t oversized_dropped() const noexcept { return oversized_; }
    connection_counts connections() const;
    std::vector<connection_info> open_connections() const;

  private:
    struct peer;
    using clock = std::chrono::steady_clock;

    // Waits up to `timeout` for I/O and does it; reads the peers that are readable unless
    // `read` is false (messages wait in the inbox: it grows only when it is empty).
    void pump(milliseconds timeout, bool read = true);
    void watch_others(std::span<pollfd> others, std::uint64_t generation);
    void unwatch_others();
    void other_ready(int fd, std::uint32_t events);
    void accept_from(int listener, const std::string& endpoint);
    void pause_accepting(const std::string& endpoint);
    void resume_accepting(clock::time_point now);
    void read_from(peer& p);
    void flush(peer& p);
    void close(peer& p, std::uint64_t connection_counts::*why);
    void expire_handshakes(clock::time_point now);
    void name(peer& p);
    void watch_output(peer& p, bool on);
    // Keeps fd() readable while messages read earlier wait in the inbox.
    void show_waiting();

    options options_;
    int epoll_ = -1;
    int waiting_ = -1;  // an eventfd in the epoll set, signalled while the inbox holds messages
    bool signalled_ = false;
    std::vector<std::pair<int, std::string>> listeners_;  // descriptor, endpoint
    std::vector<std::string> endpoints_;
    std::unordered_map<int, std::unique_ptr<peer>> peers_;  // by descriptor
    std::unordered_map<std::string, peer*> named_;          // by identity
    std::deque<message> inbox_;
    std::vector<char> read_buffer_;
    clock::time_point accepting_again_at_{};  // set while out of descriptors
    // Peers not yet named, oldest first: their deadlines come in this order, so the front's
    // bounds each wait and expiring looks at no more than the late ones.
    std::list<peer*> handshaking_;
    std::uint32_t next_identity_ = 0;
    std::uint64_t unroutable_ = 0;
    std::uint64_t oversized_ = 0;
    // A poller's descriptors in the epoll set (wait_beside), the generation they were given in
    // (0: none), those epoll would not take with what poll(2) says of them, where their
    // readiness goes while wait_beside runs, and whether an event of theirs came outside it.
    std::vector<int> others_;
    std::uint64_t others_generation_ = 0;
    std::vector<std::pair<int, short>> unwatchable_;
    std::span<pollfd> others_ready_;
    bool others_seen_ = false;
    throttled_log log_;  // closes for a reason, and accepts that failed

    mutable std::mutex shown_mutex_;  // what other threads read: counts and open connections
    connection_counts counts_;
    std::unordered_map<int, connection_info> shown_;
};

}  // namespace zpat::detail
