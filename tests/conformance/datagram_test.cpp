// The plain datagram's promises: one UDP datagram is one message, with nothing of zpat's on the
// wire, so a program with nothing but the operating system's sockets is a peer both ways.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "support/test_support.hpp"
#include "zpat/core/endpoint.hpp"
#include "zpat/core/error.hpp"
#include "zpat/datagram.hpp"
#include "zpat/poller.hpp"

using namespace zpat::testing;

namespace {

// A UDP socket of the operating system's on 127.0.0.1, on a port the system picks. Every read
// gives up after 5 s.
class plain_udp {
  public:
    plain_udp() : fd_(::socket(AF_INET, SOCK_DGRAM, 0)) {
        sockaddr_in here{};
        here.sin_family = AF_INET;
        here.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&here), sizeof here) == 0);
        socklen_t length = sizeof here;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&here), &length);
        port_ = ntohs(here.sin_port);
        timeval limit{5, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    }
    ~plain_udp() { ::close(fd_); }
    plain_udp(const plain_udp&) = delete;
    plain_udp& operator=(const plain_udp&) = delete;

    int port() const { return port_; }
    std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

    // Sends one datagram to an endpoint's host:port (loopback).
    void send_to(const std::string& endpoint, std::string_view bytes) const {
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port =
            htons(static_cast<std::uint16_t>(std::stoi(endpoint.substr(endpoint.rfind(':') + 1))));
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&to),
                         sizeof to) == static_cast<ssize_t>(bytes.size()));
    }
    // The next datagram and the port it came from; an empty port when none came in 5 s.
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
    int port_ = 0;
};

int port_of(const std::string& endpoint) {
    return std::stoi(endpoint.substr(endpoint.rfind(':') + 1));
}

}  // namespace

TEST_CASE("a bound datagram serves plain UDP sockets, answering the address each came from") {
    zpat::datagram server("raw+udp://127.0.0.1:*");
    const std::string bound = server.endpoints().at(0);
    REQUIRE(port_of(bound) > 0);
    plain_udp alice;
    plain_udp bob;
    alice.send_to(bound, "hi, server!");
    bob.send_to(bound, "");  // UDP carries empty datagrams too
    for (int i = 0; i < 2; ++i) {
        auto got = server.receive(5s);
        REQUIRE(got);
        const bool from_alice = got->from.text == alice.address();
        CHECK((from_alice || got->from.text == bob.address()));
        CHECK(got->bytes == (from_alice ? "hi, server!" : ""));
        REQUIRE(server.send(got->from, "echo:" + got->bytes));
    }
    // Each answer is one datagram, exactly as sent, from the server's port.
    CHECK(alice.receive() == std::pair<std::string, int>{"echo:hi, server!", port_of(bound)});
    CHECK(bob.receive() == std::pair<std::string, int>{"echo:", port_of(bound)});
    CHECK_FALSE(server.receive(50ms));
    CHECK(server.dropped() == 0);
}

TEST_CASE("a connected datagram talks to a plain UDP server, and only to it") {
    plain_udp server;
    plain_udp stranger;
    zpat::datagram client(">raw+udp://" + server.address());
    REQUIRE(client.send("hi, server!"));
    auto [request, client_port] = server.receive();
    CHECK(request == "hi, server!");
    REQUIRE(client_port > 0);
    const std::string client_endpoint = "raw+udp://127.0.0.1:" + std::to_string(client_port);
    // The system drops what anyone but the connected peer sends; the poller wakes for the rest.
    stranger.send_to(client_endpoint, "not from the server");
    server.send_to(client_endpoint, "hi, client!");
    zpat::poller poller;
    int readable = 0;
    poller.add(client, [&] { ++readable; });
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (readable == 0 && std::chrono::steady_clock::now() < deadline) {
        poller.run_once(100ms);
    }
    CHECK(readable > 0);
    auto answer = client.receive(5s);
    REQUIRE(answer);
    CHECK(answer->bytes == "hi, client!");
    CHECK(answer->from.text == server.address());
    CHECK_FALSE(client.receive(100ms));
}

TEST_CASE("a datagram refuses by name what one datagram cannot carry, and drops what is over") {
    zpat::options opts;
    opts.max_message_size = 100;
    zpat::datagram server("raw+udp://127.0.0.1:*", opts);
    CHECK_THROWS_WITH(server.send("to whom?"), Catch::Contains("bound datagram has no peer"));
    CHECK_THROWS_AS(server.send(zpat::datagram::peer{}, "x"), zpat::state_error);

    plain_udp peer;
    peer.send_to(server.endpoints().at(0), std::string(101, 'x'));
    peer.send_to(server.endpoints().at(0), std::string(100, 'y'));
    auto got = server.receive(5s);
    REQUIRE(got);
    CHECK(got->bytes == std::string(100, 'y'));  // the one over the limit was dropped, counted
    CHECK(server.dropped() == 1);
    CHECK_THROWS_WITH(server.send(got->from, std::string(101, 'z')),
                      Catch::Contains("exceeds max_message_size of 100 bytes"));

    zpat::datagram wide(">raw+udp://" + peer.address());
    CHECK_THROWS_WITH(wide.send(std::string(70000, 'w')),
                      Catch::Contains("65507 bytes one UDP datagram carries"));
    CHECK(wide.send(std::string(65507, 'w')));
    CHECK(peer.receive().first.size() == 65507);
}

TEST_CASE("a datagram is built on raw+udp only, and refused by name elsewhere") {
    CHECK_THROWS_WITH(zpat::datagram("tcp://127.0.0.1:*"),
                      Catch::Contains("a datagram on ZeroMQ endpoints is not supported"));
    CHECK_THROWS_WITH(zpat::datagram("raw+tcp://127.0.0.1:*"),
                      Catch::Contains("TCP is a byte stream with no datagrams"));
    CHECK_THROWS_WITH(zpat::check_offered(zpat::role_kind::datagram, "ipc://*"),
                      Catch::Contains("use raw+udp://"));
    CHECK_NOTHROW(zpat::check_offered(zpat::role_kind::datagram, "raw+udp://127.0.0.1:9"));
    CHECK_THROWS_AS(zpat::datagram("raw+udp://127.0.0.1:*,raw+udp://127.0.0.1:*"),
                    zpat::endpoint_error);
    CHECK_THROWS_AS(zpat::datagram(">raw+udp://no-such-host.invalid:9"), zpat::connection_error);
}
