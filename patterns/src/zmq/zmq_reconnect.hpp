#pragma once
// reconnect_backoff: how a CURVE client connects again after a handshake fails.
//
// libzmq 4.3 handles a client's failed handshake in two poor ways: after a server refuses the
// client's key it never connects to that endpoint again (the client stays cut off after the
// server's allow-list is fixed), and after any other failure (a wrong server key: the server
// drops the connection) it connects again at its base interval every time, since its back-off
// starts over with each connection made (libzmq issue 883): about seven attempts a second, each
// a CURVE handshake's work for the server. So a CURVE client socket tells libzmq to give up
// after any failed handshake (ZMQ_RECONNECT_STOP), and connects again itself: 100 ms after the
// first failure, then twice as long after each further one up to 30 s, each wait lengthened by
// up to half at random so that clients refused together do not come back together. A handshake
// that succeeds starts the back-off over.
//
// A ZeroMQ socket belongs to one thread, so the socket's own thread connects again, from where
// it waits: zmq_socket's send and receive, zpat::poller, and the roles' own loops, each calling
// upkeep() and waiting no longer than wait() says, beside fd().

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "zmq_watch.hpp"
#include "zpat/core/options.hpp"

namespace zpat::detail {

class reconnect_backoff {
  public:
    static constexpr milliseconds first_wait{100};
    static constexpr milliseconds longest_wait{30000};

    // For the socket whose watch counts into `counts` (which gets its `stopped` signal here).
    explicit reconnect_backoff(std::shared_ptr<watched_counts> counts);
    ~reconnect_backoff();
    reconnect_backoff(const reconnect_backoff&) = delete;
    reconnect_backoff& operator=(const reconnect_backoff&) = delete;

    // Takes `handle`, a socket just opened that will connect to `connects`, and tells libzmq to
    // give up after a failed handshake. Returns false where libzmq cannot (a build without its
    // draft API), and then libzmq's own reconnection stays. Until detach(), of(handle) finds it.
    bool attach(void* handle, std::vector<std::string> connects);
    // After attach(): whether a back-off is under way, in which case the socket connects once
    // it ends (upkeep() does), rather than at once. Never when not `allowed`: the socket
    // connects at once and nothing waits.
    bool defer_connects(bool allowed);
    // Before the socket closes.
    void detach();

    // Takes note of failed handshakes and connects again where the wait is over. Throws
    // connection_error when libzmq refuses the connect.
    void upkeep();
    // `wanted` (forever: no limit), shortened to when upkeep() has work next.
    milliseconds wait(milliseconds wanted) const;
    // What is left of the wait before the next attempt; zero when no endpoint waits.
    milliseconds left() const;
    // Readable while a failed handshake waits for upkeep() to take note of it.
    int fd() const { return counts_->stopped->fd(); }

    // The back-off of the ZeroMQ socket `handle`, or null. For the poller, on the thread that
    // uses that socket.
    static reconnect_backoff* of(const void* handle);
    // Whether any socket has one (no lock taken).
    static bool any() noexcept;

  private:
    using clock = std::chrono::steady_clock;
    void note_failures();
    void schedule(const std::vector<std::string>& failed);
    void connect_again();

    std::shared_ptr<watched_counts> counts_;
    void* handle_ = nullptr;
    std::vector<std::string> connects_;  // the socket's connect endpoints, as it connected
    std::vector<std::string> pending_;   // to connect to again at due_
    clock::time_point due_{};
    milliseconds delay_{0};  // the last wait; zero: none since the last success
    std::uint64_t successes_seen_ = 0;
};

}  // namespace zpat::detail
