#include "udp.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <asio.hpp>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <future>
#include <mutex>

#include "io_thread.hpp"
#include "seam/registry.hpp"
#include "tcp_common.hpp"
#include "zpat/core/error.hpp"
#include "zpat/core/wake_signal.hpp"

namespace zpat::detail::udp {

// What the I/O thread shares with the caller's threads. Handlers hold it, so it outlives them.
struct channel::state : std::enable_shared_from_this<channel::state> {
    state(int fd, int family, const options& opts)
        : socket(raw_io(), family == AF_INET6 ? asio::ip::udp::v6() : asio::ip::udp::v4(), fd),
          mark(opts.receive_high_water_mark <= 0
                   ? SIZE_MAX
                   : static_cast<std::size_t>(opts.receive_high_water_mark)) {}

    // I/O thread: waits until datagrams are readable, then takes every one there is.
    void read_more() {
        socket.async_wait(asio::ip::udp::socket::wait_read,
                          [self = shared_from_this()](std::error_code ec) {
                              if (!ec && self->socket.is_open()) {
                                  self->take_all();
                                  self->read_more();
                              }
                          });
    }
    void take_all() {
        thread_local std::string bytes(max_datagram + 1, '\0');  // the I/O thread's
        for (;;) {
            sockaddr_storage sender{};
            socklen_t length = sizeof sender;
            const ssize_t n =
                ::recvfrom(socket.native_handle(), bytes.data(), bytes.size(), MSG_DONTWAIT,
                           reinterpret_cast<sockaddr*>(&sender), &length);
            if (n < 0) {
                // EAGAIN: all taken. ECONNREFUSED: an earlier send found nobody listening,
                // which is not a datagram.
                if (errno == EAGAIN || errno == EWOULDBLOCK) {
                    return;
                }
                continue;
            }
            address from{std::string(reinterpret_cast<const char*>(&sender), length)};
            const std::string_view datagram(bytes.data(), static_cast<std::size_t>(n));
            {
                std::lock_guard lock(filter_mutex);
                if (take && take(datagram, from)) {
                    continue;
                }
            }
            queue_one(datagram, std::move(from));
        }
    }
    void queue_one(std::string_view bytes, address from) {
        constexpr std::size_t max_bytes = std::size_t{64} << 20;
        std::lock_guard lock(mutex);
        if (queue.size() >= mark || queued_bytes + bytes.size() > max_bytes) {
            ++dropped;
            return;
        }
        queued_bytes += bytes.size();
        queue.emplace_back(std::string(bytes), std::move(from));
        if (queue.size() == 1) {
            readable.raise();
            arrived.notify_all();
        }
    }

    asio::ip::udp::socket socket;
    const std::size_t mark;
    std::mutex mutex;
    std::condition_variable arrived;
    std::deque<std::pair<std::string, address>> queue;  // guarded by the mutex
    std::size_t queued_bytes = 0;
    std::uint64_t dropped = 0;
    bool interrupted = false;
    wake_signal readable;  // while the queue holds datagrams
    std::mutex filter_mutex;
    filter take;  // guarded by filter_mutex
};

channel::channel(const std::vector<endpoint>& endpoints, const options& opts) {
    if (endpoints.size() != 1) {
        throw endpoint_error("a raw+udp:// role takes exactly one endpoint (got " +
                             std::to_string(endpoints.size()) + ")");
    }
    const endpoint& ep = endpoints.front();
    const auto [host, port] = host_and_port(ep);
    bound_ = ep.side == link::bind;
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = bound_ ? AI_PASSIVE : 0;
    addrinfo* found = nullptr;
    if (const int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
        throw connection_error("cannot resolve '" + ep.url() + "': " + ::gai_strerror(rc));
    }
    const int family = found->ai_family;
    const int fd = ::socket(family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    const int rc = fd < 0   ? -1
                   : bound_ ? ::bind(fd, found->ai_addr, found->ai_addrlen)
                            : ::connect(fd, found->ai_addr, found->ai_addrlen);
    const int error = errno;
    ::freeaddrinfo(found);
    if (rc != 0) {
        if (fd >= 0) {
            ::close(fd);
        }
        if (bound_) {
            throw connection_error(bind_failure(ep, error, std::strerror(error)));
        }
        throw connection_error("cannot connect to '" + ep.url() + "': " + std::strerror(error));
    }
    sockaddr_storage local{};
    socklen_t length = sizeof local;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length);
    char host_text[NI_MAXHOST];
    char port_text[NI_MAXSERV];
    ::getnameinfo(reinterpret_cast<sockaddr*>(&local), length, host_text, sizeof host_text,
                  port_text, sizeof port_text, NI_NUMERICHOST | NI_NUMERICSERV);
    const std::string bound_host =
        family == AF_INET6 ? "[" + std::string(host_text) + "]" : std::string(host_text);
    resolved_ = bound_ ? ep.scheme + "://" + bound_host + ":" + port_text : ep.url();
    state_ = std::make_shared<state>(fd, family, opts);  // the socket owns the descriptor now
    asio::post(raw_io(), [self = state_] { self->read_more(); });
}

// Returns with the socket closed (its port free again), on the I/O thread unless the process
// is exiting and the thread with it.
channel::~channel() {
    if (raw_io().stopped()) {
        std::error_code ignored;
        state_->socket.close(ignored);
        return;
    }
    std::promise<void> done;
    asio::post(raw_io(), [&] {
        std::error_code ignored;
        state_->socket.close(ignored);
        done.set_value();
    });
    done.get_future().wait();
}

bool channel::send(std::string_view bytes, const address* to) {
    const auto* target =
        to == nullptr ? nullptr : reinterpret_cast<const sockaddr*>(to->bytes.data());
    const auto target_length =
        to == nullptr ? socklen_t{0} : static_cast<socklen_t>(to->bytes.size());
    return ::sendto(state_->socket.native_handle(), bytes.data(), bytes.size(), MSG_NOSIGNAL,
                    target, target_length) >= 0;
}

bool channel::receive(std::string& bytes, address& from, std::chrono::milliseconds timeout) {
    state& s = *state_;
    std::unique_lock lock(s.mutex);
    const auto ready = [&] { return s.interrupted || !s.queue.empty(); };
    if (timeout.count() < 0) {
        s.arrived.wait(lock, ready);
    } else if (!s.arrived.wait_for(lock, timeout, ready)) {
        return false;
    }
    if (s.interrupted) {
        return false;
    }
    auto& [datagram, sender] = s.queue.front();
    s.queued_bytes -= datagram.size();
    bytes.swap(datagram);
    from = std::move(sender);
    s.queue.pop_front();
    if (s.queue.empty()) {
        s.readable.clear();
    }
    return true;
}

void channel::set_filter(filter take) {
    std::lock_guard lock(state_->filter_mutex);
    state_->take = std::move(take);
}

void channel::interrupt() {
    std::lock_guard lock(state_->mutex);
    state_->interrupted = true;
    state_->arrived.notify_all();
}

void channel::clear_interrupt() {
    std::lock_guard lock(state_->mutex);
    state_->interrupted = false;
}

std::string channel::text(const address& a) {
    char host[NI_MAXHOST];
    char port[NI_MAXSERV];
    if (::getnameinfo(reinterpret_cast<const sockaddr*>(a.bytes.data()),
                      static_cast<socklen_t>(a.bytes.size()), host, sizeof host, port, sizeof port,
                      NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        return "(unknown address)";
    }
    const bool v6 = std::string_view(host).find(':') != std::string_view::npos;
    return (v6 ? "[" + std::string(host) + "]" : std::string(host)) + ":" + port;
}

std::string channel::host(const address& a) {
    const auto* any = reinterpret_cast<const sockaddr*>(a.bytes.data());
    if (a.bytes.size() >= sizeof(sockaddr_in6) && any->sa_family == AF_INET6) {
        const auto* v6 = reinterpret_cast<const sockaddr_in6*>(any);
        return {reinterpret_cast<const char*>(&v6->sin6_addr), sizeof v6->sin6_addr};
    }
    if (a.bytes.size() >= sizeof(sockaddr_in) && any->sa_family == AF_INET) {
        const auto* v4 = reinterpret_cast<const sockaddr_in*>(any);
        return {reinterpret_cast<const char*>(&v4->sin_addr), sizeof v4->sin_addr};
    }
    return a.bytes;
}

int channel::fd() const noexcept {
    return state_->readable.fd();
}

std::uint64_t channel::dropped() const {
    std::lock_guard lock(state_->mutex);
    return state_->dropped;
}

}  // namespace zpat::detail::udp
