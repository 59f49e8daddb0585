// The stream's promises, on every byte-stream transport: plain bytes, no framing of zpat's, so
// a program with nothing but the operating system's sockets is a peer.

#include <catch2/catch.hpp>
#include <map>
#include <thread>

#include "support/plain_socket.hpp"
#include "support/test_support.hpp"
#include "zpat/core/error.hpp"
#include "zpat/poller.hpp"
#include "zpat/stream.hpp"

using namespace zpat::testing;
using stream_event = zpat::stream::event;

namespace {

// The next event of `what`, skipping none: a stream's events come in order per connection.
stream_event expect(zpat::stream& s, stream_event::type what) {
    auto next = s.receive(5s);
    REQUIRE(next);
    REQUIRE(next->what == what);
    return std::move(*next);
}

// Bytes of `connection` until `size` have come, in order, as the transport split them.
std::string collect(zpat::stream& s, zpat::stream::connection_id connection, std::size_t size) {
    std::string all;
    while (all.size() < size) {
        auto next = expect(s, stream_event::type::data);
        REQUIRE(next.connection == connection);
        REQUIRE_FALSE(next.bytes.empty());
        all += next.bytes;
    }
    return all;
}

}  // namespace

TEST_CASE("a stream serves plain sockets: bytes in, bytes out, closed by the server") {
    const std::string transport = GENERATE(as<std::string>{}, "tcp", "ipc", "raw+tcp");
    CAPTURE(transport);
    zpat::stream server("@" + any_endpoint(transport));
    std::vector<std::unique_ptr<plain_socket>> clients;
    std::map<zpat::stream::connection_id, int> client_of;
    for (int i = 0; i < 3; ++i) {
        clients.push_back(std::make_unique<plain_socket>(server.endpoints()[0]));
        client_of[expect(server, stream_event::type::opened).connection] = i;
    }
    REQUIRE(client_of.size() == 3);  // three connections, three ids
    for (int i = 0; i < 3; ++i) {
        clients[static_cast<std::size_t>(i)]->send_all("hello from " + std::to_string(i));
    }
    // Pieces of different connections may interleave: each is told by its connection id.
    std::map<zpat::stream::connection_id, std::string> received;
    for (std::size_t answered = 0; answered < 3;) {
        auto piece = expect(server, stream_event::type::data);
        std::string& text = received[piece.connection];
        text += piece.bytes;
        if (text.size() == 12) {
            const int from = client_of.at(piece.connection);
            CHECK(text == "hello from " + std::to_string(from));
            REQUIRE(server.send(piece.connection, "answer to " + std::to_string(from)));
            server.close(piece.connection);
            ++answered;
        }
    }
    // The server goes on serving (libzmq carries out a close while its socket is in use), and a
    // connection it closed itself reports nothing.
    CHECK_FALSE(server.receive(200ms));
    for (int i = 0; i < 3; ++i) {
        CHECK(clients[static_cast<std::size_t>(i)]->read_to_end() ==
              "answer to " + std::to_string(i));
    }
}

TEST_CASE("a stream reports a peer that closed, and sending to it then fails") {
    const std::string transport = GENERATE(as<std::string>{}, "tcp", "ipc", "raw+tcp");
    CAPTURE(transport);
    zpat::stream server("@" + any_endpoint(transport));
    auto client = std::make_unique<plain_socket>(server.endpoints()[0]);
    const auto id = expect(server, stream_event::type::opened).connection;
    client->send_all("bye");
    CHECK(collect(server, id, 3) == "bye");
    client.reset();
    CHECK(expect(server, stream_event::type::closed).connection == id);
    CHECK_FALSE(server.send(id, "anyone there?"));
}

TEST_CASE("two streams talk: the connecting side is told its connection opened and closed") {
    // A connecting stream is built on raw+tcp only; see the refusal below.
    zpat::stream server("@" + any_endpoint("raw+tcp"));
    zpat::stream client(">" + server.endpoints()[0]);
    const auto to_server = expect(client, stream_event::type::opened).connection;
    const auto to_client = expect(server, stream_event::type::opened).connection;
    REQUIRE(client.send(to_server, "ping"));
    CHECK(collect(server, to_client, 4) == "ping");
    REQUIRE(server.send(to_client, "pong"));
    CHECK(collect(client, to_server, 4) == "pong");
    server.close(to_client);
    CHECK(expect(client, stream_event::type::closed).connection == to_server);
    // It redials: the next connection has a new id on both sides.
    const auto again = expect(client, stream_event::type::opened).connection;
    CHECK(again != to_server);
    CHECK(expect(server, stream_event::type::opened).connection != to_client);
}

TEST_CASE("a stream keeps a fast sender's bytes whole and in order at a small high-water mark") {
    // One piece may wait per connection: the stream stops reading the connection until the
    // application takes it, and TCP holds the sender back meanwhile. Nothing is lost.
    const std::string transport = GENERATE(as<std::string>{}, "tcp", "raw+tcp");
    CAPTURE(transport);
    zpat::stream server("@" + any_endpoint(transport), {.receive_high_water_mark = 1});
    std::string sent;
    for (int i = 0; sent.size() < 2'000'000; ++i) {
        sent += std::to_string(i) + ",";
    }
    plain_socket client(server.endpoints()[0]);
    const auto id = expect(server, stream_event::type::opened).connection;
    std::thread writer([&] { client.send_all(sent); });
    const std::string received = collect(server, id, sent.size());
    writer.join();
    CHECK(received == sent);
}

TEST_CASE("a poller wakes for a stream's events") {
    const std::string transport = GENERATE(as<std::string>{}, "tcp", "raw+tcp");
    CAPTURE(transport);
    zpat::stream server("@" + any_endpoint(transport));
    zpat::poller poller;
    int woken = 0;
    poller.add(server, [&] { ++woken; });
    CHECK(poller.run_once(20ms) == 0);
    plain_socket client(server.endpoints()[0]);
    CHECK(poller.run_once(5s) == 1);
    CHECK(woken == 1);
    CHECK(server.receive(0ms)->what == stream_event::type::opened);
}

TEST_CASE("a stream refuses what it cannot do, by name") {
    CHECK_THROWS_AS(zpat::stream("@raw+udp://127.0.0.1:*"), zpat::unsupported_error);
    CHECK_THROWS_WITH(
        zpat::stream("@raw+udp://127.0.0.1:*"),
        Catch::Matchers::Contains("raw+udp") && Catch::Matchers::Contains("use raw+tcp://"));
    CHECK_THROWS_AS(zpat::stream("@" + any_endpoint("inproc")), zpat::unsupported_error);
    CHECK_THROWS_WITH(zpat::stream("@" + any_endpoint("inproc")),
                      Catch::Matchers::Contains("inproc://"));
    CHECK_THROWS_AS(zpat::stream(">tcp://127.0.0.1:5555"), zpat::unsupported_error);
    CHECK_THROWS_WITH(zpat::stream(">tcp://127.0.0.1:5555"),
                      Catch::Matchers::Contains("use raw+tcp:// to connect"));
    const std::string transport = GENERATE(as<std::string>{}, "tcp", "raw+tcp");
    CAPTURE(transport);
    zpat::stream server("@" + any_endpoint(transport), {.max_message_size = 100});
    plain_socket client(server.endpoints()[0]);
    const auto id = expect(server, stream_event::type::opened).connection;
    CHECK_THROWS_AS(server.send(id, std::string(101, 'x')), zpat::message_size_error);
    CHECK_THROWS_WITH(server.send(id, std::string(101, 'x')),
                      Catch::Matchers::Contains("101 bytes"));
    CHECK(server.send(id, std::string(100, 'x')));
}
