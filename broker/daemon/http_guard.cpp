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

// One connection's stream, read through a small buffer (cpp-httplib reads a request a byte at
// a time). Every wait is cut short by the deadline of the request or answer in progress.
class guarded_stream final : public httplib::Stream {
  public:
    guarded_stream(int fd, const http_limits& limits) : fd_(fd), limits_(limits) {}

    // A new request begins: its deadline and byte count start now.
    void begin_request() {
        deadline_ = clock::now() + limits_.request_deadline;
        answering_ = false;
        request_bytes_ = 0;
        cut_ = nullptr;
    }
    bool buffered() const noexcept { return begin_ < end_; }
    // Why the connection was cut, or null.
    const char* cut() const noexcept { return cut_; }

    bool is_readable() const override {
        return buffered() || (!expired() && wait_for(fd_, POLLIN, wait_budget()));
    }
    bool is_writable() const override {
        return !expired() && wait_for(fd_, POLLOUT, wait_budget());
    }

    ssize_t read(char* ptr, size_t size) override {
        if (!buffered() && !fill()) {
            return -1;
        }
        const std::size_t n = std::min(size, end_ - begin_);
        if (request_bytes_ + n > limits_.request_bytes) {
            cut_ = "a request over the size limit";
            return -1;
        }
        std::copy_n(buffer_.data() + begin_, n, ptr);
        begin_ += n;
        request_bytes_ += n;
        return static_cast<ssize_t>(n);
    }

    ssize_t write(const char* ptr, size_t size) override {
        if (!answering_) {  // the request is read: the answer's own deadline starts
            answering_ = true;
            deadline_ = clock::now() + limits_.response_deadline;
        }
        if (expired() || !wait_for(fd_, POLLOUT, wait_budget())) {
            note_timeout("an answer that was not read in time");
            return -1;
        }
        ssize_t sent = 0;
        do {
            sent = ::send(fd_, ptr, size, MSG_NOSIGNAL);
        } while (sent < 0 && errno == EINTR);
        return sent;
    }

    void get_remote_ip_and_port(std::string& ip, int& port) const override {
        address_of(fd_, true, ip, port);
    }
    void get_local_ip_and_port(std::string& ip, int& port) const override {
        address_of(fd_, false, ip, port);
    }
    socket_t socket() const override { return fd_; }

  private:
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
        if (expired() || !wait_for(fd_, POLLIN, wait_budget())) {
            note_timeout("a request that did not arrive whole in time");
            return false;
        }
        ssize_t got = 0;
        do {
            got = ::recv(fd_, buffer_.data(), buffer_.size(), 0);
        } while (got < 0 && errno == EINTR);
        if (got <= 0) {
            return false;
        }
        begin_ = 0;
        end_ = static_cast<std::size_t>(got);
        return true;
    }

    int fd_;
    const http_limits& limits_;
    clock::time_point deadline_{};
    bool answering_ = false;
    std::size_t request_bytes_ = 0;
    const char* cut_ = nullptr;
    std::array<char, 4096> buffer_{};
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
};

}  // namespace

guarded_server::guarded_server(const http_limits& limits) : limits_(limits) {
    set_read_timeout(std::chrono::duration_cast<std::chrono::seconds>(limits.io_timeout));
    set_write_timeout(std::chrono::duration_cast<std::chrono::seconds>(limits.io_timeout));
}

void guarded_server::widen_backlog(int connections) {
    // Listening again on a listening socket changes only its backlog.
    if (svr_sock_ != INVALID_SOCKET && ::listen(svr_sock_, connections) != 0) {
        spdlog::warn("HTTP: cannot widen the listen backlog: {}", std::strerror(errno));
    }
}

bool guarded_server::process_and_close_socket(socket_t sock) {
    guarded_stream stream(sock, limits_);
    bool served = false;
    // A kept-alive connection serves up to keep_alive_max_count_ requests, each begun within
    // the idle timeout; the last is answered with "Connection: close".
    for (std::size_t left = keep_alive_max_count_; left > 0 && svr_sock_ != INVALID_SOCKET;
         --left) {
        if (!stream.buffered() && !wait_for(sock, POLLIN, limits_.io_timeout)) {
            break;
        }
        stream.begin_request();
        bool closed = false;
        served = process_request(stream, left == 1, closed, nullptr);
        if (stream.cut() != nullptr) {
            note_cut(stream.cut());  // cpp-httplib may have answered 400: the connection ends
            break;
        }
        if (!served || closed) {
            break;
        }
    }
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return served;
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
