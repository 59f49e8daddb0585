#include "udp.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "zpat/core/error.hpp"

namespace zpat::detail::udp {
namespace {

constexpr std::string_view magic = "ZPAT";

void append_u64(std::string& out, std::uint64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8) {
        out += static_cast<char>(v >> static_cast<unsigned>(shift));
    }
}

std::uint64_t read_u64(std::string_view bytes, std::size_t at) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 8; ++i) {
        v = (v << 8U) | static_cast<unsigned char>(bytes[at + i]);
    }
    return v;
}

bool is_kind(char c) {
    return c == 'Q' || c == 'R' || c == 'S' || c == 'X' || c == 'P';
}

}  // namespace

void encode(const datagram& d, std::string& out) {
    out.assign(magic);
    out += static_cast<char>(wire::version);
    out += static_cast<char>(d.from);
    out += static_cast<char>(d.what);
    out += '\0';
    append_u64(out, d.id);
    if (!d.body.empty()) {
        wire::encode(d.body, out);
    }
    if (out.size() > max_datagram) {
        throw message_size_error("message of " + std::to_string(d.body.byte_size()) +
                                 " bytes does not fit one UDP datagram (at most " +
                                 std::to_string(max_datagram - header_size - 8) +
                                 " bytes of payload); use raw+tcp:// for larger messages");
    }
}

std::optional<datagram> decode(std::string_view bytes, wire::role peer_role,
                               std::size_t max_message_size) {
    if (bytes.size() < header_size || bytes.substr(0, 4) != magic ||
        static_cast<std::uint8_t>(bytes[4]) != wire::version ||
        bytes[5] != static_cast<char>(peer_role) || !is_kind(bytes[6])) {
        return std::nullopt;
    }
    datagram d;
    d.from = peer_role;
    d.what = static_cast<kind>(bytes[6]);
    d.id = read_u64(bytes, 8);
    const std::string_view rest = bytes.substr(header_size);
    if (!rest.empty()) {
        wire::decoder decoder(max_message_size);
        std::size_t used = 0;
        if (decoder.next(rest, d.body, used) != wire::decoder::status::message_ready ||
            used != rest.size()) {
            return std::nullopt;
        }
    }
    return d;
}

channel::channel(const std::vector<endpoint>& endpoints) {
    if (endpoints.size() != 1) {
        throw endpoint_error("a raw+udp:// role takes exactly one endpoint (got " +
                             std::to_string(endpoints.size()) + ")");
    }
    const endpoint& ep = endpoints.front();
    const auto colon = ep.address.rfind(':');
    std::string host = ep.address.substr(0, colon);
    std::string port = ep.address.substr(colon + 1);
    bound_ = ep.side == link::bind;
    if (host == "*") {
        host = "0.0.0.0";
    }
    if (port == "*") {
        port = "0";
    }
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = bound_ ? AI_PASSIVE : 0;
    addrinfo* found = nullptr;
    if (const int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
        throw connection_error("cannot resolve '" + ep.url() + "': " + ::gai_strerror(rc));
    }
    fd_ = ::socket(found->ai_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    const int rc = fd_ < 0  ? -1
                   : bound_ ? ::bind(fd_, found->ai_addr, found->ai_addrlen)
                            : ::connect(fd_, found->ai_addr, found->ai_addrlen);
    const int error = errno;
    ::freeaddrinfo(found);
    if (rc != 0) {
        if (fd_ >= 0) {
            ::close(fd_);
        }
        throw connection_error(std::string("cannot ") + (bound_ ? "bind '" : "connect to '") +
                               ep.url() + "': " + std::strerror(error));
    }
    sockaddr_storage local{};
    socklen_t length = sizeof local;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &length);
    char host_text[NI_MAXHOST];
    char port_text[NI_MAXSERV];
    ::getnameinfo(reinterpret_cast<sockaddr*>(&local), length, host_text, sizeof host_text,
                  port_text, sizeof port_text, NI_NUMERICHOST | NI_NUMERICSERV);
    resolved_ = bound_ ? ep.scheme + "://" + host_text + ":" + port_text : ep.url();
}

channel::~channel() {
    ::close(fd_);
}

bool channel::send(std::string_view bytes, const address* to) {
    const auto* target =
        to == nullptr ? nullptr : reinterpret_cast<const sockaddr*>(to->bytes.data());
    const auto target_length =
        to == nullptr ? socklen_t{0} : static_cast<socklen_t>(to->bytes.size());
    return ::sendto(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL, target, target_length) >= 0;
}

bool channel::receive(std::string& bytes, address& from, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        int wait = -1;
        if (timeout.count() >= 0) {
            const auto left = std::chrono::ceil<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            wait = static_cast<int>(std::max<std::int64_t>(0, left.count()));
        }
        pollfd watch[2] = {{fd_, POLLIN, 0}, {interrupted_.fd(), POLLIN, 0}};
        if (::poll(watch, 2, wait) <= 0 || (watch[1].revents & POLLIN) != 0) {
            return false;
        }
        bytes.resize(max_datagram + 1);
        sockaddr_storage sender{};
        socklen_t length = sizeof sender;
        const ssize_t n = ::recvfrom(fd_, bytes.data(), bytes.size(), 0,
                                     reinterpret_cast<sockaddr*>(&sender), &length);
        if (n >= 0) {
            bytes.resize(static_cast<std::size_t>(n));
            from.bytes.assign(reinterpret_cast<const char*>(&sender), length);
            return true;
        }
        // EAGAIN (another thread took it) or ECONNREFUSED (an earlier send found nobody
        // listening): neither is a datagram; keep waiting out the time that is left.
        if (errno != EAGAIN && errno != ECONNREFUSED && errno != EINTR) {
            return false;
        }
    }
}

void channel::interrupt() {
    interrupted_.raise();
}

void channel::clear_interrupt() {
    interrupted_.clear();
}

}  // namespace zpat::detail::udp
