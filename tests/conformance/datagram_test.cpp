// The plain datagram's promises: one UDP datagram is one message, with nothing of zpat's on the
// wire, so a program with nothing but the operating system's sockets is a peer both ways.

#include <catch2/catch.hpp>
#include <string>

#include "support/plain_udp.hpp"
#include "support/test_support.hpp"
#include "zpat/core/endpoint.hpp"
#include "zpat/core/error.hpp"
#include "zpat/datagram.hpp"
#include "zpat/poller.hpp"

using namespace zpat::testing;

namespace {

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
