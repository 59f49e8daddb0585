#include "zmtp_socket.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <poll.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstring>
#include <utility>

#include "core/kernel_traffic.hpp"
#include "tcp_common.hpp"
#include "zpat/core/error.hpp"

namespace zpat::detail {
namespace {

constexpr std::size_t read_chunk = std::size_t{64} * 1024;
constexpr int events_per_wait = 64;
constexpr std::chrono::milliseconds accept_pause{100};

}  // namespace

zmtp_socket::zmtp_socket(const std::vector<endpoint>& binds, const options& opts, const kind& what)
    : options_(opts),
      kind_(what),
      epoll_(::epoll_create1(EPOLL_CLOEXEC)),
      waiting_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
      read_buffer_(read_chunk) {
    if (epoll_ < 0 || waiting_ < 0) {
        const int failed = errno;
        ::close(epoll_);
        ::close(waiting_);
        throw connection_error(std::string("epoll_create1 or eventfd: ") + std::strerror(failed));
    }
    epoll_event wake{EPOLLIN, {.fd = waiting_}};
    ::epoll_ctl(epoll_, EPOLL_CTL_ADD, waiting_, &wake);
    try {
        asio::io_context io;
        for (const endpoint& ep : binds) {
            if (ep.scheme != "tcp" || ep.side != link::bind) {
                throw unsupported_error("zpat's own ZMTP " + std::string(kind_.socket_type) +
                                        " binds tcp:// endpoints only, not '" + ep.url() + "'");
            }
            auto [acceptor, url] = listen_on(io, ep);
            acceptor->non_blocking(true);
            const int fd = acceptor->release();
            epoll_event ev{EPOLLIN, {.fd = fd}};
            ::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev);
            listeners_.emplace_back(fd, url);
            endpoints_.push_back(std::move(url));
        }
    } catch (...) {
        for (const auto& [fd, url] : listeners_) {
            ::close(fd);
        }
        ::close(waiting_);
        ::close(epoll_);
        throw;
    }
}

zmtp_socket::~zmtp_socket() {
    for (auto& [fd, p] : peers_) {
        ::close(fd);
    }
    for (const auto& [fd, url] : listeners_) {
        ::close(fd);
    }
    ::close(waiting_);
    ::close(epoll_);
}

void zmtp_socket::linger() {
    // What is queued for connected peers is written for up to options::linger.
    const bool no_limit = options_.linger == forever;
    const auto until = clock::now() + (no_limit ? milliseconds{0} : options_.linger);
    const auto unwritten = [this] {
        return std::ranges::any_of(peers_, [](const auto& p) { return p.second->watching_output; });
    };
    while (unwritten() && (no_limit || clock::now() < until)) {
        pump(no_limit ? forever : std::chrono::ceil<milliseconds>(until - clock::now()), false);
    }
}

bool zmtp_socket::wait_beside(std::span<pollfd> others, std::uint64_t generation,
                              milliseconds timeout) {
    watch_others(others, generation);
    bool any = false;
    for (pollfd& o : others) {
        const auto refused = std::ranges::find(unwatchable_, o.fd, &std::pair<int, short>::first);
        o.revents = refused != unwatchable_.end() ? refused->second : short{0};
        any = any || o.revents != 0;
    }
    others_ready_ = others;
    const bool read = !has_waiting();  // else only accepts, writes and the others' readiness
    const auto deadline = clock::now() + timeout;
    for (;;) {
        milliseconds wait{0};
        if (!any && read && timeout != forever) {
            wait =
                std::max(milliseconds{0}, std::chrono::ceil<milliseconds>(deadline - clock::now()));
        } else if (!any && read) {
            wait = forever;
        }
        pump(wait, read);
        any = any || std::ranges::any_of(others, [](const pollfd& o) { return o.revents != 0; });
        if (has_waiting() || any || wait.count() == 0 ||
            (timeout != forever && clock::now() >= deadline)) {
            break;
        }
    }
    others_ready_ = {};
    others_seen_ = false;
    return has_waiting();
}

bool zmtp_socket::await_waiting(milliseconds timeout) {
    const auto deadline = clock::now() + timeout;
    while (!has_waiting()) {
        milliseconds wait = timeout;
        if (timeout != forever) {
            wait =
                std::max(milliseconds{0}, std::chrono::ceil<milliseconds>(deadline - clock::now()));
        }
        pump(wait);
        drop_others_seen();
        if (!has_waiting() && timeout != forever && clock::now() >= deadline) {
            return false;
        }
    }
    return true;
}

bool zmtp_socket::receive_waiting(message& into, milliseconds timeout) {
    if (!await_waiting(timeout)) {
        return false;
    }
    into = std::move(inbox_.front());
    inbox_.pop_front();
    show_waiting();
    return true;
}

void zmtp_socket::drop_others_seen() {
    if (std::exchange(others_seen_, false)) {
        unwatch_others();
    }
}

void zmtp_socket::watch_others(std::span<pollfd> others, std::uint64_t generation) {
    if (generation == others_generation_ && generation != 0) {
        return;
    }
    unwatch_others();
    for (const pollfd& o : others) {
        epoll_event ev{EPOLLIN, {.fd = o.fd}};
        if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, o.fd, &ev) == 0) {
            others_.push_back(o.fd);
        } else if (errno == EPERM) {
            unwatchable_.emplace_back(o.fd, POLLIN);  // a file: poll(2) calls it readable
        } else if (errno == EBADF) {
            unwatchable_.emplace_back(o.fd, POLLNVAL);
        } else if (errno != EEXIST) {  // the same descriptor twice: watched once
            const int failed = errno;
            unwatch_others();
            throw connection_error("poll: epoll_ctl: " + std::string(std::strerror(failed)));
        }
    }
    others_generation_ = generation;
}

void zmtp_socket::unwatch_others() {
    for (const int fd : others_) {
        ::epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);  // closed since: gone already
    }
    others_.clear();
    unwatchable_.clear();
    others_generation_ = 0;
}

void zmtp_socket::other_ready(int fd, std::uint32_t events) {
    if (std::ranges::find(others_, fd) == others_.end()) {
        return;  // waiting_
    }
    others_seen_ = true;
    for (pollfd& o : others_ready_) {
        if (o.fd == fd) {
            // epoll's EPOLLIN, EPOLLERR and EPOLLHUP are poll(2)'s bits.
            o.revents = static_cast<short>(events & (EPOLLIN | EPOLLERR | EPOLLHUP));
        }
    }
}

void zmtp_socket::pump(milliseconds timeout, bool read) {
    const auto now = clock::now();
    expire_handshakes(now);
    resume_accepting(now);
    milliseconds wait = timeout < milliseconds{0} ? forever : timeout;
    const auto until = [&](clock::time_point at) {
        const auto left = std::max(milliseconds{0}, std::chrono::ceil<milliseconds>(at - now));
        wait = wait == forever ? left : std::min(wait, left);
    };
    if (accepting_again_at_ != clock::time_point{}) {
        until(accepting_again_at_);
    }
    // A connection still in its handshake must be closed at its deadline, not at the caller's.
    if (!handshaking_.empty() && handshake_limited()) {
        until(handshaking_.front()->opened + options_.handshake_timeout);
    }
    std::array<epoll_event, events_per_wait> events{};
    const int n = ::epoll_wait(
        epoll_, events.data(), events_per_wait,
        wait == forever ? -1
                        : static_cast<int>(std::min<milliseconds::rep>(wait.count(), INT_MAX)));
    for (int i = 0; i < n; ++i) {
        const int fd = events[static_cast<std::size_t>(i)].data.fd;
        const std::uint32_t what = events[static_cast<std::size_t>(i)].events;
        if (auto l = std::ranges::find(listeners_, fd, &std::pair<int, std::string>::first);
            l != listeners_.end()) {
            accept_from(fd, l->second);
            continue;
        }
        const auto found = peers_.find(fd);
        if (found == peers_.end()) {
            other_ready(fd, what);  // a poller's descriptor, waiting_, or closed by an event
            continue;               // before it in this batch
        }
        if ((what & EPOLLOUT) != 0) {
            flush(*found->second);
        }
        if (read && (what & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0 && peers_.contains(fd)) {
            readable(*found->second);
        }
    }
}

void zmtp_socket::show_waiting() {
    // Only when a read brought several messages and some are left: the usual one at a time
    // costs nothing here.
    if (has_waiting() != signalled_) {
        std::uint64_t value = 1;
        const auto done = signalled_ ? ::read(waiting_, &value, sizeof value)
                                     : ::write(waiting_, &value, sizeof value);
        static_cast<void>(done);  // an eventfd takes these while its counter is far from full
        signalled_ = !signalled_;
    }
}

void zmtp_socket::pause_accepting(const std::string& endpoint) {
    // Out of descriptors: a listener with a connection waiting stays readable, and each wait
    // would return at once to fail again. The listeners leave the epoll set for a while, and the
    // waiting connections wait in the kernel's backlog.
    const int failed = errno;
    for (const auto& [fd, url] : listeners_) {
        ::epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
    }
    accepting_again_at_ = clock::now() + accept_pause;
    log_.say(kind_.name, "accept on " + endpoint + " failed (" + std::strerror(failed) +
                             "); trying again in 100 ms");
}

void zmtp_socket::resume_accepting(clock::time_point now) {
    if (accepting_again_at_ == clock::time_point{} || now < accepting_again_at_) {
        return;
    }
    for (const auto& [fd, url] : listeners_) {
        epoll_event ev{EPOLLIN, {.fd = fd}};
        ::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev);
    }
    accepting_again_at_ = {};
}

void zmtp_socket::accept_from(int listener, const std::string& endpoint) {
    const int fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            pause_accepting(endpoint);
        }
        return;  // else gone before it was taken: nothing to do
    }
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto made = make_peer(fd, {kind_.socket_type, kind_.accepts, options_.max_message_size,
                               options_.max_message_frames, true});
    peer& p = *made;
    peers_.emplace(fd, std::move(made));
    p.handshaking = handshaking_.insert(handshaking_.end(), &p);
    epoll_event ev{EPOLLIN, {.fd = fd}};
    ::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev);
    {
        const std::lock_guard lock(shown_mutex_);
        ++counts_.opened;
        shown_[fd] = connection_info{peer_text(fd), endpoint, "", std::chrono::system_clock::now(),
                                     std::nullopt};
    }
    flush(p);  // the greeting and READY
}

std::optional<std::string_view> zmtp_socket::receive_from(peer& p) {
    const ssize_t got = ::recv(p.fd, read_buffer_.data(), read_buffer_.size(), 0);
    if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
        close(p, nullptr);
        return std::nullopt;
    }
    return std::string_view(read_buffer_.data(), got < 0 ? 0 : static_cast<std::size_t>(got));
}

void zmtp_socket::note_greeted(peer& p) {
    if (p.greeted) {
        return;
    }
    p.greeted = true;
    handshaking_.erase(p.handshaking);
    {
        const std::lock_guard lock(shown_mutex_);
        shown_[p.fd].peer_role = p.conn.peer_socket_type();
    }
    greeted(p);
}

bool zmtp_socket::settle(peer& p, bool open) {
    if (p.conn.ready()) {
        note_greeted(p);
    }
    if (!open) {
        log_.say(kind_.name,
                 "closed the connection from " + peer_text(p.fd) + ": " + p.conn.reason());
        flush(p);  // the ERROR, if the handshake got that far
        // Before READY the peer spoke something else, or was the wrong kind of peer; after it,
        // it broke the framing.
        close(p, p.conn.ready() ? &connection_counts::malformed : &connection_counts::refused);
        return false;
    }
    if (!p.conn.outgoing().empty() && !p.watching_output) {
        flush(p);  // PONGs
    }
    return true;
}

bool zmtp_socket::full(const peer& p) const {
    return (options_.send_high_water_mark > 0 &&
            p.unwritten >= static_cast<std::size_t>(options_.send_high_water_mark)) ||
           (options_.send_high_water_bytes > 0 &&
            p.conn.outgoing().size() >= options_.send_high_water_bytes);
}

void zmtp_socket::flush(peer& p) {
    std::string& out = p.conn.outgoing();
    // A broken connection keeps what is unwritten: its read sees the error and closes it.
    static_cast<void>(write_front(p.fd, out));
    if (out.empty()) {
        p.unwritten = 0;
    }
    watch_output(p, !out.empty());
}

void zmtp_socket::watch_output(peer& p, bool on) {
    if (p.watching_output == on) {
        return;
    }
    p.watching_output = on;
    epoll_event ev{EPOLLIN | (on ? static_cast<std::uint32_t>(EPOLLOUT) : 0U), {.fd = p.fd}};
    ::epoll_ctl(epoll_, EPOLL_CTL_MOD, p.fd, &ev);
}

void zmtp_socket::close(peer& p, std::uint64_t connection_counts::*why) {
    const int fd = p.fd;
    closing(p);
    if (!p.greeted) {
        handshaking_.erase(p.handshaking);
    }
    {
        const std::lock_guard lock(shown_mutex_);
        ++counts_.closed;
        if (why != nullptr) {
            ++(counts_.*why);
        }
        shown_.erase(fd);
    }
    ::close(fd);  // also leaves the epoll set
    peers_.erase(fd);
}

void zmtp_socket::drop(peer& p, const std::string& reason, std::uint64_t connection_counts::*why) {
    log_.say(kind_.name, "closed the connection from " + peer_text(p.fd) + ": " + reason);
    close(p, why);
}

void zmtp_socket::expire_handshakes(clock::time_point now) {
    if (!handshake_limited()) {
        return;
    }
    while (!handshaking_.empty() &&
           now >= handshaking_.front()->opened + options_.handshake_timeout) {
        peer& p = *handshaking_.front();
        log_.say(kind_.name, "closed the connection from " + peer_text(p.fd) +
                                 ": no greeting and READY within the handshake timeout");
        close(p, &connection_counts::handshake_timeouts);  // takes it off handshaking_
    }
}

connection_counts zmtp_socket::connections() const {
    const std::lock_guard lock(shown_mutex_);
    return counts_;
}

std::vector<connection_info> zmtp_socket::open_connections() const {
    const std::lock_guard lock(shown_mutex_);  // a descriptor listed here is not closed yet
    std::vector<connection_info> out;
    out.reserve(shown_.size());
    for (const auto& [fd, info] : shown_) {
        out.push_back(info);
        // What the kernel counts, as a libzmq socket's connections report it.
        out.back().traffic = kernel_traffic(fd);
    }
    return out;
}

}  // namespace zpat::detail
