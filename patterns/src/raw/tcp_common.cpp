#include "tcp_common.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>

#include "seam/registry.hpp"
#include "zpat/core/error.hpp"

namespace zpat::detail {

using asio::ip::tcp;

std::pair<std::string, std::string> host_and_port(const endpoint& ep) {
    const auto colon = ep.address.rfind(':');
    std::string host = ep.address.substr(0, colon);
    std::string port = ep.address.substr(colon + 1);
    if (host == "*") {
        host = "0.0.0.0";
    } else if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);  // an IPv6 address, as URLs write one
    }
    if (port == "*") {
        port = "0";
    }
    return {host, port};
}

std::pair<std::unique_ptr<tcp::acceptor>, std::string> listen_on(asio::io_context& io,
                                                                 const endpoint& ep) {
    auto [host, port] = host_and_port(ep);
    std::error_code ec;
    tcp::resolver resolver(io);
    const auto found = resolver.resolve(host, port, asio::ip::resolver_base::passive, ec);
    auto acceptor = std::make_unique<tcp::acceptor>(io);
    if (!ec && found.begin() != found.end()) {
        const tcp::endpoint local = found.begin()->endpoint();
        acceptor->open(local.protocol(), ec);
        if (!ec) {
            acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
            acceptor->bind(local, ec);
        }
        if (!ec) {
            acceptor->listen(asio::socket_base::max_listen_connections, ec);
        }
    }
    if (ec) {
        throw connection_error(bind_failure(
            ep, ec.category() == asio::system_category() ? ec.value() : 0, ec.message()));
    }
    std::string url = ep.scheme + "://" + address_text(acceptor->local_endpoint());
    return {std::move(acceptor), std::move(url)};
}

std::string address_text(const asio::ip::tcp::endpoint& at) {
    const std::string address = at.address().to_string();
    return (at.address().is_v6() ? "[" + address + "]" : address) + ":" + std::to_string(at.port());
}

bool write_front(int fd, std::string& out) {
    std::size_t written = 0;
    bool broken = false;
    while (written < out.size()) {
        const ssize_t sent = ::send(fd, out.data() + written, out.size() - written, MSG_NOSIGNAL);
        if (sent > 0) {
            written += static_cast<std::size_t>(sent);
        } else if (sent < 0 && errno == EINTR) {
            continue;
        } else {
            broken = sent < 0 && errno != EAGAIN;
            break;
        }
    }
    out.erase(0, written);
    return !broken;
}

std::string peer_text(int fd) {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        return "?";
    }
    std::array<char, INET6_ADDRSTRLEN> text{};
    if (addr.ss_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
        ::inet_ntop(AF_INET6, &in6->sin6_addr, text.data(), text.size());
        return "[" + std::string(text.data()) + "]:" + std::to_string(ntohs(in6->sin6_port));
    }
    const auto* in4 = reinterpret_cast<const sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &in4->sin_addr, text.data(), text.size());
    return std::string(text.data()) + ":" + std::to_string(ntohs(in4->sin_port));
}

milliseconds redial_backoff::next() {
    const auto spread = std::max<long>(1, static_cast<long>(wait_.count() / 5));
    const milliseconds delay =
        wait_ + milliseconds(std::uniform_int_distribution<long>(-spread, spread)(random_));
    wait_ = std::min(wait_ * 2, max);
    return delay;
}

}  // namespace zpat::detail
