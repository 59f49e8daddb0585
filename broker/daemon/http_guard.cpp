#include "http_guard.hpp"

#include <netdb.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <string>

namespace zpat::broker {
namespace {

using clock = std::chrono::steady_clock;

// Waits up to `timeout` for `events` on `fd`; false on the timeout, an error or a hang-up.
bool wait_for(int fd, short events, std::chrono::milliseconds timeout) {
    pollfd item{.fd = fd, .events = events, .revents = 0};
    const int ms = static_cast<int>(std::max<std::int64_t>(timeout.count(), 0));
    int ready = 0;
    do {
        ready = ::poll(&item, 1, ms);
    } while (ready < 0 && errno == EINTR);
    return ready > 0 && (item.revents & events) != 0;
}

void address_of(int fd, bool remote, std::string& ip, int& port) {
    sockaddr_storage address{};
    socklen_t size = sizeof address;
    auto* raw = reinterpret_cast<sockaddr*>(&address);  // NOLINT(*-reinterpret-cast): the BSD API
    const int got = remote ? ::getpeername(fd, raw, &size) : ::getsockname(fd, raw, &size);
    std::array<char, NI_MAXHOST> host{};
    std::array<char, NI_MAXSERV> service{};
    if (got != 0 || ::getnameinfo(raw, size, host.data(), host.size(), service.data(),
                                  service.size(), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        ip.clear();
        port = 0;
        return;
    }
    ip = host.data();
    port = std::atoi(service.data());
}

// One connection's stream. It reads first what the gate read of the request (the connection's
// pending bytes) and then, for a chunked body only, from the socket; cpp-httplib reads a
// request a byte at a time. Every wait is cut short by the deadline of the request or answer in
// progress.
class guarded_stream final : public httplib::Stream {
  public:
    guarded_stream(http_connection& connection, const http_limits& limits)
        : connection_(connection), limits_(limits) {}

    // A new request begins: its deadline and byte count start now.
    void begin_request() {
        deadline_ = clock::now() + limits_.request_deadline;
        answering_ = false;
        request_bytes_ = 0;
        cut_ = nullptr;
    }
    // Drops what has been read from the connection's pending bytes, keeping what follows.
    void keep_unread() {
        connection_.pending.erase(0, read_);
        read_ = 0;
    }
    // Why the connection was cut, or null.
    const char* cut() const noexcept { return cut_; }

    bool is_readable() const override {
        return buffered() || (!expired() && wait_for(fd(), POLLIN, wait_budget()));
    }
    bool is_writable() const override {
        return !expired() && wait_for(fd(), POLLOUT, wait_budget());
    }

    ssize_t read(char* ptr, size_t size) override {
        if (!buffered() && !fill()) {
            return -1;
        }
        const std::size_t n = std::min(size, connection_.pending.size() - read_);
        if (request_bytes_ + n > limits_.request_bytes) {
            cut_ = "a request over the size limit";
            return -1;
        }
        std::copy_n(connection_.pending.data() + read_, n, ptr);
        read_ += n;
        request_bytes_ += n;
        return static_cast<ssize_t>(n);
    }

    ssize_t write(const char* ptr, size_t size) override {
        if (!answering_) {  // the request is read: the answer's own deadline starts
            answering_ = true;
            deadline_ = clock::now() + limits_.response_deadline;
        }
        if (expired() || !wait_for(fd(), POLLOUT, wait_budget())) {
            note_timeout("an answer that was not read in time");
            return -1;
        }
        ssize_t sent = 0;
        do {
            sent = ::send(fd(), ptr, size, MSG_NOSIGNAL);
        } while (sent < 0 && errno == EINTR);
        return sent;
    }

    void get_remote_ip_and_port(std::string& ip, int& port) const override {
        address_of(fd(), true, ip, port);
    }
    void get_local_ip_and_port(std::string& ip, int& port) const override {
        address_of(fd(), false, ip, port);
    }
    socket_t socket() const override { return fd(); }

  private:
    int fd() const noexcept { return connection_.fd; }
    bool buffered() const noexcept { return read_ < connection_.pending.size(); }

    // The shorter of one wait's timeout and what is left of the deadline.
    std::chrono::milliseconds wait_budget() const {
        // Rounded up, so that a wait that times out ends at or past the deadline.
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline_ - clock::now());
        return std::min(left, limits_.io_timeout);
    }

    // A client that keeps a byte always waiting must not outlast the deadline either.
    bool expired() const { return clock::now() >= deadline_; }

    void note_timeout(const char* why) {
        if (expired()) {
            cut_ = why;
        }
    }

    bool fill() {
        if (expired() || !wait_for(fd(), POLLIN, wait_budget())) {
            note_timeout("a request that did not arrive whole in time");
            return false;
        }
        std::array<char, 4096> chunk{};
        ssize_t got = 0;
        do {
            got = ::recv(fd(), chunk.data(), chunk.size(), 0);
        } while (got < 0 && errno == EINTR);
        if (got <= 0) {
            return false;
        }
        connection_.pending.assign(chunk.data(), static_cast<std::size_t>(got));
        read_ = 0;
        return true;
    }

    http_connection& connection_;
    const http_limits& limits_;
    clock::time_point deadline_{};
    bool answering_ = false;
    std::size_t request_bytes_ = 0;
    const char* cut_ = nullptr;
    std::size_t read_ = 0;  // of connection_.pending
};

// Runs each connection's first turn on the accepting thread: it only hands it to the gate.
class inline_queue final : public httplib::TaskQueue {
  public:
    void enqueue(std::function<void()> job) override { job(); }
    void shutdown() override {}
};

}  // namespace

guarded_server::guarded_server(const http_limits& limits, std::size_t serving_threads)
    : limits_(limits) {
    set_read_timeout(std::chrono::duration_cast<std::chrono::seconds>(limits.io_timeout));
    set_write_timeout(std::chrono::duration_cast<std::chrono::seconds>(limits.io_timeout));
    new_task_queue = [] { return new inline_queue; };
    gate_ = std::make_unique<http_gate>(
        limits_,
        [this](http_connection c) {
            {
                const std::lock_guard lock(mutex_);
                whole_.push_back(std::move(c));
            }
            work_.notify_one();
        },
        [this](const char* why) { note_cut(why); });
    for (std::size_t i = 0; i < serving_threads; ++i) {
        serving_.emplace_back([this] { serve_whole_requests(); });
    }
}

guarded_server::~guarded_server() {
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    work_.notify_all();
    for (std::thread& t : serving_) {
        t.join();
    }
    gate_.reset();  // after the serving threads, which hand connections back to it
    for (const http_connection& c : whole_) {
        ::shutdown(c.fd, SHUT_RDWR);
        ::close(c.fd);
    }
}

void guarded_server::widen_backlog(int connections) {
    // Listening again on a listening socket changes only its backlog.
    if (svr_sock_ != INVALID_SOCKET && ::listen(svr_sock_, connections) != 0) {
        spdlog::warn("HTTP: cannot widen the listen backlog: {}", std::strerror(errno));
    }
}

bool guarded_server::process_and_close_socket(socket_t sock) {
    gate_->admit({.fd = sock, .pending = {}, .served = 0}, true);
    return true;
}

void guarded_server::serve_whole_requests() {
    for (;;) {
        http_connection connection;
        {
            std::unique_lock lock(mutex_);
            work_.wait(lock, [this] { return !whole_.empty() || stopping_; });
            if (stopping_) {
                return;  // the destructor closes what is left
            }
            connection = std::move(whole_.front());
            whole_.pop_front();
        }
        serve(std::move(connection));
    }
}

// Answers the connection's whole requests, then hands it back to the gate for the next one.
// A kept-alive connection serves up to keep_alive_max_count_ requests; the last is answered
// with "Connection: close".
void guarded_server::serve(http_connection connection) {
    guarded_stream stream(connection, limits_);
    bool open = true;
    bool pipelined = false;
    do {
        stream.begin_request();
        bool closed = false;
        ++connection.served;
        const bool served =
            process_request(stream, connection.served >= keep_alive_max_count_, closed, nullptr);
        stream.keep_unread();
        if (stream.cut() != nullptr) {
            note_cut(stream.cut());  // cpp-httplib may have answered 400: the connection ends
        }
        open = served && !closed && stream.cut() == nullptr &&
               connection.served < keep_alive_max_count_ && svr_sock_ != INVALID_SOCKET;
        const std::size_t next = whole_request_size(connection.pending, limits_.request_bytes);
        pipelined = next != 0 && next != too_large;  // the gate cuts one too large
    } while (open && pipelined);
    if (open) {
        gate_->admit(std::move(connection), false);
        return;
    }
    ::shutdown(connection.fd, SHUT_RDWR);
    ::close(connection.fd);
    gate_->closed();
}

void guarded_server::note_cut(const char* why) {
    cut_.fetch_add(1, std::memory_order_relaxed);
    const std::int64_t now = clock::now().time_since_epoch().count();
    std::int64_t last = last_log_ns_.load(std::memory_order_relaxed);
    constexpr std::int64_t second = std::chrono::nanoseconds(std::chrono::seconds(1)).count();
    if (now - last < second || !last_log_ns_.compare_exchange_strong(last, now)) {
        unlogged_.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    const std::uint64_t more = unlogged_.exchange(0, std::memory_order_relaxed);
    spdlog::warn("HTTP: closed a connection for {}{}", why,
                 more == 0 ? std::string() : " (and " + std::to_string(more) + " more since)");
}

}  // namespace zpat::broker
