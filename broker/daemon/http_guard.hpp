#pragma once
// guarded_server: cpp-httplib's server behind an http_gate (http_gate.hpp). cpp-httplib 0.11
// gives each connection a thread from the moment it is accepted and times out each read alone,
// so a client that trickles a byte just inside that timeout holds a thread for as long as it
// likes, and 64 such clients hold them all. Here the gate reads every request until it is whole
// (or past its deadline or size), and a few serving threads answer whole requests only; an
// answer must leave within `response_deadline`. Connections cut are counted, and logged at most
// once a second.

// poll(), not select(), for the header's inline parts, as for the library itself.
#define CPPHTTPLIB_USE_POLL
#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "http_gate.hpp"

namespace zpat::broker {

class guarded_server final : public httplib::Server {
  public:
    explicit guarded_server(const http_limits& limits, std::size_t serving_threads = 8);
    // After stop() and the listening thread's end: ends the serving threads and the gate.
    ~guarded_server() override;
    guarded_server(const guarded_server&) = delete;
    guarded_server& operator=(const guarded_server&) = delete;

    // After binding: lets the kernel hold `connections` not yet accepted, where cpp-httplib
    // 0.11 asks for 5 (a burst of clients past that waits a second for its SYN to be resent).
    void widen_backlog(int connections);

    // Connections closed for going past a deadline, the size cap or the connection limit.
    std::uint64_t cut() const noexcept { return cut_.load(std::memory_order_relaxed); }

  private:
    // cpp-httplib's per-connection entry (private and virtual in 0.11, so that its TLS server can
    // replace it), called on the accepting thread: hands the connection to the gate.
    bool process_and_close_socket(socket_t sock) override;
    void serve_whole_requests();
    void serve(http_connection connection);
    void note_cut(const char* why);

    http_limits limits_;
    std::atomic<std::uint64_t> cut_{0};
    std::atomic<std::int64_t> last_log_ns_{0};
    std::atomic<std::uint64_t> unlogged_{0};

    std::mutex mutex_;
    std::condition_variable work_;
    std::deque<http_connection> whole_;  // under mutex_: connections with a whole request
    bool stopping_ = false;              // under mutex_
    std::unique_ptr<http_gate> gate_;
    std::vector<std::thread> serving_;
};

}  // namespace zpat::broker
