#include "zmtp_link.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <utility>

#include "core/kernel_traffic.hpp"

namespace zpat::detail {
namespace {

constexpr std::size_t read_size = std::size_t{64} * 1024;  // one read(2) at most

}  // namespace

zmtp_link::zmtp_link(const endpoint& to, const options& opts, const kind& what)
    : to_(to), url_(to.url()), options_(opts), kind_(what), read_buffer_(read_size) {}

zmtp_link::~zmtp_link() {
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

bool zmtp_link::send(const message& head, const message& body) {
    if (!is_ready()) {
        return false;
    }
    std::string& out = connection_->outgoing();
    zmtp::encode(head, out, 0, !body.empty());
    zmtp::encode(body, out);
    flush();
    return true;
}

bool zmtp_link::take(message& into) {
    if (inbox_.empty()) {
        return false;
    }
    into = std::move(inbox_.front());
    inbox_.pop_front();
    return true;
}

void zmtp_link::reopen() {
    inbox_.clear();
    if (fd_ >= 0) {
        lose(nullptr, true);
    }
    dial_at_ = clock::now();
}

pollfd zmtp_link::interest() const noexcept {
    if (fd_ < 0) {
        return {-1, 0, 0};
    }
    if (dialling_) {
        return {fd_, POLLOUT, 0};
    }
    // Nothing more is read while messages wait to be taken: what waits stays bounded.
    const short in = inbox_.empty() ? POLLIN : 0;
    const short out = connection_->outgoing().empty() ? 0 : POLLOUT;
    return {fd_, static_cast<short>(in | out), 0};
}

zmtp_link::clock::time_point zmtp_link::due() const noexcept {
    if (!inbox_.empty()) {
        return clock::time_point::min();  // nothing to wait for
    }
    if (fd_ < 0) {
        return dial_at_;
    }
    if ((dialling_ || !connection_->ready()) && options_.handshake_timeout > milliseconds{0}) {
        return dialled_at_ + options_.handshake_timeout;
    }
    return clock::time_point::max();
}

void zmtp_link::advance(short revents) {
    const clock::time_point now = clock::now();
    if (fd_ < 0) {
        if (now >= dial_at_) {
            dial();
        }
        return;
    }
    const bool late = options_.handshake_timeout > milliseconds{0} &&
                      now >= dialled_at_ + options_.handshake_timeout;
    if (dialling_) {
        int error = 0;
        socklen_t size = sizeof error;
        if (revents != 0 && ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &size) == 0 &&
            error == 0) {
            dialled();
        } else if (revents != 0 || late) {
            // Refused, unreachable, or no answer in time: not a connection yet, so not counted.
            const std::lock_guard lock(shown_mutex_);
            ::close(fd_);
            fd_ = -1;
            dialling_ = false;
            dial_at_ = now + backoff_.next();
        }
        return;
    }
    if ((revents & (POLLIN | POLLHUP | POLLERR)) != 0 && inbox_.empty()) {
        read_some();
    }
    if (fd_ >= 0 && (revents & POLLOUT) != 0) {
        flush();
    }
    if (fd_ >= 0 && late && !connection_->ready()) {
        log_.say(kind_.name, "closed the connection to " + url_ +
                                 ": no greeting and READY within the handshake timeout");
        lose(&connection_counts::handshake_timeouts, false);
    }
}

void zmtp_link::dial() {
    const auto [host, port] = host_and_port(to_);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const int resolved = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found);
    const clock::time_point now = clock::now();
    if (resolved != 0) {
        log_.say(kind_.name, "cannot resolve " + url_ + ": " + ::gai_strerror(resolved));
        dial_at_ = now + backoff_.next();
        return;
    }
    // A name may have several addresses (localhost: ::1 and 127.0.0.1): each dial takes the
    // next, so one that refuses does not hide the others.
    std::vector<const addrinfo*> addresses;
    for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
        addresses.push_back(a);
    }
    const addrinfo& at = *addresses[address_turn_++ % addresses.size()];
    int fd = ::socket(at.ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    bool connected = false;
    if (fd >= 0) {
        const int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        connected = ::connect(fd, at.ai_addr, at.ai_addrlen) == 0;
        if (!connected && errno != EINPROGRESS) {
            ::close(fd);
            fd = -1;
        }
    }
    ::freeaddrinfo(found);
    if (fd < 0) {
        dial_at_ = now + backoff_.next();
        return;
    }
    {
        const std::lock_guard lock(shown_mutex_);
        fd_ = fd;
    }
    dialled_at_ = now;
    dialling_ = true;
    if (connected) {
        dialled();
    }
}

void zmtp_link::dialled() {
    dialling_ = false;
    connection_.emplace(zmtp::connection::settings{kind_.socket_type, kind_.accepts,
                                                   options_.max_message_size,
                                                   options_.max_message_frames, false});
    {
        const std::lock_guard lock(shown_mutex_);
        ++counts_.opened;
        shown_ = connection_info{peer_text(fd_), url_, "", std::chrono::system_clock::now(),
                                 std::nullopt};
    }
    flush();  // the greeting and READY
}

void zmtp_link::read_some() {
    const ssize_t got = ::recv(fd_, read_buffer_.data(), read_buffer_.size(), 0);
    if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
        lose(nullptr, carried_);
        return;
    }
    if (got < 0) {
        return;
    }
    const bool was_ready = connection_->ready();
    bool any = false;
    const bool open = connection_->take(
        std::string_view(read_buffer_.data(), static_cast<std::size_t>(got)), [&](message& msg) {
            inbox_.push_back(std::move(msg));
            any = true;
        });
    if (any) {
        carried_ = true;
        backoff_.reset();
    }
    if (!was_ready && connection_->ready()) {
        ++ready_count_;
        const std::lock_guard lock(shown_mutex_);
        shown_->peer_role = connection_->peer_socket_type();
    }
    if (!open) {
        log_.say(kind_.name, "closed the connection to " + url_ + ": " + connection_->reason());
        flush();  // the ERROR, if the handshake got that far
        // Before READY the peer spoke something else, or was the wrong kind of peer; after
        // it, it broke the framing.
        if (fd_ >= 0) {
            lose(connection_->ready() ? &connection_counts::malformed : &connection_counts::refused,
                 false);
        }
        return;
    }
    if (!connection_->outgoing().empty()) {
        flush();  // PONGs
    }
}

void zmtp_link::flush() {
    if (!write_front(fd_, connection_->outgoing())) {
        lose(nullptr, carried_);  // reset, or broken: the read says no more
    }
}

void zmtp_link::lose(std::uint64_t connection_counts::*why, bool at_once) {
    {
        const std::lock_guard lock(shown_mutex_);
        ++counts_.closed;
        if (why != nullptr) {
            ++(counts_.*why);
        }
        shown_.reset();
        ::close(fd_);
        fd_ = -1;
    }
    connection_.reset();
    dialling_ = false;
    carried_ = false;
    dial_at_ = at_once ? clock::now() : clock::now() + backoff_.next();
}

connection_counts zmtp_link::connections() const {
    const std::lock_guard lock(shown_mutex_);
    return counts_;
}

std::vector<connection_info> zmtp_link::open_connections() const {
    const std::lock_guard lock(shown_mutex_);
    if (!shown_) {
        return {};
    }
    connection_info info = *shown_;
    info.traffic = kernel_traffic(fd_);
    return {std::move(info)};
}

void wait_once(zmtp_link& link, zmtp_link::clock::time_point until) {
    const auto now = zmtp_link::clock::now();
    int timeout = -1;
    if (until != zmtp_link::clock::time_point::max()) {
        const auto left = std::chrono::ceil<milliseconds>(std::max(until, now) - now).count();
        timeout = static_cast<int>(std::min<long long>(left, INT_MAX));
    }
    pollfd wanted = link.interest();
    const int ready = ::poll(&wanted, wanted.fd < 0 ? 0 : 1, timeout);
    link.advance(ready > 0 ? wanted.revents : static_cast<short>(0));
}

}  // namespace zpat::detail
