#pragma once
// A UDP socket of the operating system's, bound to a loopback address (127.0.0.1 unless given;
// any 127.x.y.z works, so a test can play peers on several hosts) on a port the system picks:
// a peer that zpat would never be. Every read gives up after 5 s unless told otherwise.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace zpat::testing {

class plain_udp {
  public:
    explicit plain_udp(const std::string& host = "127.0.0.1")
        : fd_(::socket(AF_INET, SOCK_DGRAM, 0)), host_(host) {
        sockaddr_in here{};
        here.sin_family = AF_INET;
        REQUIRE(::inet_pton(AF_INET, host.c_str(), &here.sin_addr) == 1);
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&here), sizeof here) == 0);
        socklen_t length = sizeof here;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&here), &length);
        port_ = ntohs(here.sin_port);
        set_read_timeout(std::chrono::milliseconds(5000));
    }
    ~plain_udp() { ::close(fd_); }
    plain_udp(const plain_udp&) = delete;
    plain_udp& operator=(const plain_udp&) = delete;

    int port() const { return port_; }
    std::string address() const { return host_ + ":" + std::to_string(port_); }

    void set_read_timeout(std::chrono::milliseconds wait) const {
        timeval limit{static_cast<time_t>(wait.count() / 1000),
                      static_cast<suseconds_t>(wait.count() % 1000 * 1000)};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    }

    // Sends one datagram to an endpoint's port on 127.0.0.1.
    void send_to(const std::string& endpoint, std::string_view bytes) const {
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port =
            htons(static_cast<std::uint16_t>(std::stoi(endpoint.substr(endpoint.rfind(':') + 1))));
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&to),
                         sizeof to) == static_cast<ssize_t>(bytes.size()));
    }
    // The next datagram and the port it came from; an empty port when none came in time.
    std::pair<std::string, int> receive() const {
        std::string bytes(70000, '\0');
        sockaddr_in from{};
        socklen_t length = sizeof from;
        const auto n = ::recvfrom(fd_, bytes.data(), bytes.size(), 0,
                                  reinterpret_cast<sockaddr*>(&from), &length);
        if (n < 0) {
            return {"", 0};
        }
        bytes.resize(static_cast<std::size_t>(n));
        return {bytes, ntohs(from.sin_port)};
    }

  private:
    int fd_;
    std::string host_;
    int port_ = 0;
};

}  // namespace zpat::testing
