#pragma once
// http_gate: one thread that reads HTTP requests until they are whole, for many connections at
// once, before any serving thread sees them. A client that sends half a request, trickles it, or
// sends nothing costs a descriptor and its bytes so far, never a thread: serving threads only
// ever get a request they can answer at once.
//
// Each request must arrive whole within `request_deadline` of its first byte and within
// `request_bytes`; a connection past either is answered 408 or 413 and closed, and the gate
// calls `cut` with the reason. A connection that sends no byte within `io_timeout` is closed
// quietly (an idle keep-alive). At most `connections` are open in all, waiting here or served;
// a new one past that ends the one that has waited longest here (or, if none waits, itself).

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

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
    // Connections open at once, waiting for a whole request or served.
    std::size_t connections = 256;
};

// How much of `bytes` the first request in it takes: 0 while it is not whole yet, and
// `too_large` when it is, or will be, over `limit`. A request is whole at the end of its head
// and of the body its Content-Length announces. A chunked body is left to the server to read
// (under the same deadline): its request counts as whole at the end of its head.
inline constexpr std::size_t too_large = static_cast<std::size_t>(-1);
std::size_t whole_request_size(std::string_view bytes, std::size_t limit);

// A connection between requests: its socket, and the bytes of its next requests read so far.
struct http_connection {
    int fd = -1;
    std::string pending;
    std::size_t served = 0;  // requests answered on it
};

class http_gate {
  public:
    // Called on the gate's thread with each connection whose next request is whole.
    using on_whole = std::function<void(http_connection)>;
    // Called on the gate's thread with why a connection was cut.
    using on_cut = std::function<void(const char* why)>;

    http_gate(const http_limits& limits, on_whole whole, on_cut cut);
    ~http_gate();  // ends the thread and closes every connection still waiting
    http_gate(const http_gate&) = delete;
    http_gate& operator=(const http_gate&) = delete;

    // A new connection (counted as open), or one handed back after its requests were answered.
    void admit(http_connection connection, bool is_new);
    // A connection handed out by `whole` has been closed by whoever served it.
    void closed() noexcept { open_.fetch_sub(1, std::memory_order_relaxed); }

  private:
    struct waiting {
        http_connection connection;
        std::chrono::steady_clock::time_point deadline;
        bool begun = false;  // a byte of its next request has come
    };

    void run();
    void take_admitted();
    void read_from(waiting& w, bool& done);
    void judge(waiting& w, bool& done);
    void expire(std::chrono::steady_clock::time_point now);
    void end(waiting& w, const char* why, std::string_view answer);
    int wait_ms() const;

    const http_limits& limits_;
    on_whole whole_;
    on_cut cut_;
    std::atomic<std::size_t> open_{0};
    int wake_[2] = {-1, -1};  // a pipe: admit() writes a byte, the thread reads it
    std::mutex mutex_;
    std::vector<http_connection> admitted_;  // under mutex_, for the thread to take
    std::vector<waiting> waiting_;           // the thread's, oldest first
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

}  // namespace zpat::broker
