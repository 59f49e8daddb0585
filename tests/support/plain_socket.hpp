#pragma once
// A blocking socket of the operating system's, connected to a bound endpoint ("tcp://" or
// "raw+tcp://" on loopback, or "ipc:///path"), to play peers that zpat would never be: a
// stranger, a hostile peer, a client in another language. Every read gives up after 5 s.

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <chrono>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>

namespace zpat::testing {

class plain_socket {
  public:
    explicit plain_socket(const std::string& endpoint) {
        if (endpoint.starts_with("ipc://")) {
            fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
            sockaddr_un to{};
            to.sun_family = AF_UNIX;
            std::strncpy(to.sun_path, endpoint.substr(6).c_str(), sizeof to.sun_path - 1);
            REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0);
        } else {
            fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
            sockaddr_in to{};
            to.sin_family = AF_INET;
            to.sin_port = htons(
                static_cast<std::uint16_t>(std::stoi(endpoint.substr(endpoint.rfind(':') + 1))));
            to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0);
        }
        timeval limit{5, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    }
    ~plain_socket() { ::close(fd_); }
    plain_socket(const plain_socket&) = delete;
    plain_socket& operator=(const plain_socket&) = delete;

    void send_all(std::string_view bytes) const {
        while (!bytes.empty()) {
            const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            REQUIRE(n > 0);
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
    }
    // How long a read waits for bytes before giving up (5 s unless set).
    void set_read_timeout(std::chrono::milliseconds wait) const {
        timeval limit{static_cast<time_t>(wait.count() / 1000),
                      static_cast<suseconds_t>(wait.count() % 1000 * 1000)};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    }
    // Up to `size` bytes: fewer only when the other side closed or nothing came for 5 s.
    std::string read_exactly(std::size_t size) const {
        std::string all;
        char buffer[4096];
        while (all.size() < size) {
            const auto n = ::recv(fd_, buffer, std::min(sizeof buffer, size - all.size()), 0);
            if (n <= 0) {
                break;
            }
            all.append(buffer, static_cast<std::size_t>(n));
        }
        return all;
    }
    // Everything until the other side closes (or 5 s pass with nothing).
    std::string read_to_end() const { return read_exactly(std::string::npos); }
    // True once the other side has closed or reset the connection; false when 5 s pass first.
    bool closed_by_peer() const {
        char buffer[4096];
        for (;;) {
            const auto n = ::recv(fd_, buffer, sizeof buffer, 0);
            if (n == 0 || (n < 0 && errno == ECONNRESET)) {
                return true;
            }
            if (n < 0) {
                return false;
            }
        }
    }

  private:
    int fd_ = -1;
};

}  // namespace zpat::testing
