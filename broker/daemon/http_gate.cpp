#include "http_gate.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

namespace zpat::broker {
namespace {

using clock = std::chrono::steady_clock;

bool starts_with_name(std::string_view line, std::string_view name) {
    return line.size() > name.size() && line[name.size()] == ':' &&
           std::equal(name.begin(), name.end(), line.begin(), [](char lower, char c) {
               return std::tolower(static_cast<unsigned char>(c)) == lower;
           });
}

std::string_view trimmed(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
        text.remove_suffix(1);
    }
    return text;
}

void close_connection(int fd) {
    ::shutdown(fd, SHUT_RDWR);
    ::close(fd);
}

}  // namespace

std::size_t whole_request_size(std::string_view bytes, std::size_t limit) {
    const std::size_t blank = bytes.find("\r\n\r\n");
    if (blank == std::string_view::npos) {
        return bytes.size() > limit ? too_large : 0;
    }
    const std::size_t head = blank + 4;
    if (head > limit) {
        return too_large;
    }
    std::size_t body = 0;
    std::string_view rest = bytes.substr(0, blank + 2);
    rest.remove_prefix(std::min(rest.size(), rest.find("\r\n") + 2));  // the request line
    while (!rest.empty()) {
        const std::size_t end = rest.find("\r\n");
        const std::string_view line = rest.substr(0, end);
        rest.remove_prefix(end + 2);
        if (starts_with_name(line, "transfer-encoding")) {
            return head;  // the server reads the chunks, under the same deadline
        }
        if (starts_with_name(line, "content-length")) {
            const std::string_view value = trimmed(line.substr(sizeof "content-length"));
            const auto [at, ec] = std::from_chars(value.data(), value.data() + value.size(), body);
            if (ec == std::errc::result_out_of_range) {
                return too_large;
            }
            if (ec != std::errc{} || at != value.data() + value.size()) {
                return head;  // not a number: the server answers 400
            }
        }
    }
    if (body > limit - head) {
        return too_large;
    }
    return bytes.size() >= head + body ? head + body : 0;
}

http_gate::http_gate(const http_limits& limits, on_whole whole, on_cut cut)
    : limits_(limits), whole_(std::move(whole)), cut_(std::move(cut)) {
    if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) {
        throw std::system_error(errno, std::generic_category(), "making the HTTP gate's pipe");
    }
    thread_ = std::thread([this] { run(); });
}

http_gate::~http_gate() {
    stopping_ = true;
    (void)::write(wake_[1], "x", 1);
    thread_.join();
    take_admitted();
    for (waiting& w : waiting_) {
        close_connection(w.connection.fd);
    }
    ::close(wake_[0]);
    ::close(wake_[1]);
}

void http_gate::admit(http_connection connection, bool is_new) {
    if (is_new) {
        open_.fetch_add(1, std::memory_order_relaxed);
    }
    {
        const std::lock_guard lock(mutex_);
        admitted_.push_back(std::move(connection));
    }
    (void)::write(wake_[1], "x", 1);  // a full pipe already wakes the thread
}

void http_gate::take_admitted() {
    std::vector<http_connection> taken;
    {
        const std::lock_guard lock(mutex_);
        taken.swap(admitted_);
    }
    const auto now = clock::now();
    for (http_connection& c : taken) {
        const bool begun = !c.pending.empty();
        waiting_.push_back(
            {std::move(c), now + (begun ? limits_.request_deadline : limits_.io_timeout), begun});
        if (begun) {  // handed back with bytes of its next request: perhaps all of them
            bool done = false;
            judge(waiting_.back(), done);
            if (done) {
                waiting_.pop_back();
            }
        }
    }
    // Past the limit, the connection that has waited longest makes room.
    while (open_.load(std::memory_order_relaxed) > limits_.connections && !waiting_.empty()) {
        end(waiting_.front(), "too many connections (it had waited longest)", {});
        waiting_.erase(waiting_.begin());
    }
}

// Reads what `w` has sent; `done` when it leaves the gate (whole, cut, or gone).
void http_gate::read_from(waiting& w, bool& done) {
    std::array<char, 4096> chunk{};
    const std::size_t room =
        limits_.request_bytes + 1 - std::min(limits_.request_bytes, w.connection.pending.size());
    ssize_t got = 0;
    do {
        got = ::recv(w.connection.fd, chunk.data(), std::min(room, chunk.size()), MSG_DONTWAIT);
    } while (got < 0 && errno == EINTR);
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        return;
    }
    if (got <= 0) {  // the client left, or its connection failed
        done = true;
        close_connection(w.connection.fd);
        closed();
        return;
    }
    w.connection.pending.append(chunk.data(), static_cast<std::size_t>(got));
    if (!w.begun) {
        w.begun = true;
        w.deadline = clock::now() + limits_.request_deadline;
    }
    judge(w, done);
}

// Hands `w` on when its request is whole, or cuts it when it is too large.
void http_gate::judge(waiting& w, bool& done) {
    const std::size_t size = whole_request_size(w.connection.pending, limits_.request_bytes);
    if (size == too_large) {
        done = true;
        end(w, "a request over the size limit",
            "HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    } else if (size != 0) {
        done = true;
        whole_(std::move(w.connection));
    }
}

void http_gate::end(waiting& w, const char* why, std::string_view answer) {
    if (!answer.empty()) {  // a courtesy: the socket's buffer takes it, or it is dropped
        (void)::send(w.connection.fd, answer.data(), answer.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    }
    close_connection(w.connection.fd);
    closed();
    cut_(why);
}

void http_gate::expire(clock::time_point now) {
    std::erase_if(waiting_, [&](waiting& w) {
        if (w.deadline > now) {
            return false;
        }
        if (w.begun) {
            end(w, "a request that did not arrive whole in time",
                "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        } else {  // idle: closed without a word, as a kept-alive connection times out
            close_connection(w.connection.fd);
            closed();
        }
        return true;
    });
}

int http_gate::wait_ms() const {
    if (waiting_.empty()) {
        return -1;
    }
    const auto first = std::min_element(waiting_.begin(), waiting_.end(), [](auto& a, auto& b) {
                           return a.deadline < b.deadline;
                       })->deadline;
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(first - clock::now());
    return static_cast<int>(std::max<std::int64_t>(left.count(), 0));
}

void http_gate::run() {
    std::vector<pollfd> items;
    while (!stopping_) {
        items.assign(1, {.fd = wake_[0], .events = POLLIN, .revents = 0});
        for (const waiting& w : waiting_) {
            items.push_back({.fd = w.connection.fd, .events = POLLIN, .revents = 0});
        }
        if (::poll(items.data(), items.size(), wait_ms()) < 0) {
            if (errno != EINTR) {  // out of memory for a moment: try again shortly
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
            continue;
        }
        // Each waiting connection's turn, in the order polled; the admitted join after.
        std::size_t kept = 0;
        for (std::size_t i = 0; i < waiting_.size(); ++i) {
            bool done = false;
            if ((items[i + 1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
                read_from(waiting_[i], done);
            }
            if (!done) {
                if (kept != i) {
                    waiting_[kept] = std::move(waiting_[i]);
                }
                ++kept;
            }
        }
        waiting_.resize(kept);
        if ((items[0].revents & POLLIN) != 0) {
            std::array<char, 64> drained{};
            while (::read(wake_[0], drained.data(), drained.size()) > 0) {
            }
        }
        take_admitted();
        expire(clock::now());
    }
}

}  // namespace zpat::broker
