#pragma once
// guarded_server: cpp-httplib's server with a deadline for each whole request and a cap on its
// size. cpp-httplib 0.11 times out each read alone, so a client that trickles a byte just
// inside that timeout holds a serving thread for as long as it likes, and one that sends header
// lines without end grows the request without bound. Here each request must arrive whole within
// `request_deadline` and `request_bytes`, and its answer leave within `response_deadline`; a
// connection past any of them is closed, and the closes are logged at most once a second.

// poll(), not select(), for the header's inline parts, as for the library itself.
#define CPPHTTPLIB_USE_POLL
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace zpat::broker {

struct http_limits {
    // How long one read or write may wait, and a kept-alive connection sit idle between requests.
    std::chrono::milliseconds io_timeout{1000};
    // From a request's first byte to its last (request line, headers and body).
    std::chrono::milliseconds request_deadline{3000};
    // From an answer's first byte to its last.
    std::chrono::milliseconds response_deadline{10000};
    // A request's bytes, head and body together.
    std::size_t request_bytes = std::size_t{64} * 1024;
};

class guarded_server final : public httplib::Server {
  public:
    explicit guarded_server(const http_limits& limits);

    // After binding: lets the kernel hold `connections` not yet accepted, where cpp-httplib
    // 0.11 asks for 5 (a burst of clients past that waits a second for its SYN to be resent).
    void widen_backlog(int connections);

    // Connections closed for going past a deadline or the size cap, since the start.
    std::uint64_t cut() const noexcept { return cut_.load(std::memory_order_relaxed); }

  private:
    // cpp-httplib's per-connection loop (private and virtual in 0.11, so that its TLS server can
    // replace it), with a guarded stream in place of its own.
    bool process_and_close_socket(socket_t sock) override;
    void note_cut(const char* why);

    http_limits limits_;
    std::atomic<std::uint64_t> cut_{0};
    std::atomic<std::int64_t> last_log_ns_{0};
    std::atomic<std::uint64_t> unlogged_{0};
};

}  // namespace zpat::broker
