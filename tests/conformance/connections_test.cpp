// open_connections(): each role lists who it is connected to, through which endpoint and since
// when, on every connection-carrying transport; raw TCP also says what each connection carried.

#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "broker/broker_support.hpp"
#include "support/test_support.hpp"
#include "wire.hpp"
#include "zpat/core/connection_info.hpp"
#include "zpat/pipeline.hpp"
#include "zpat/pubsub.hpp"

using namespace zpat::testing;
using zpat::connection_info;
using zpat::message;

namespace {

std::size_t wire_size(const message& msg) {
    std::string encoded;
    zpat::detail::wire::encode(msg, encoded);
    return encoded.size();
}

// "127.0.0.1:PORT" of a bound tcp:// or raw+tcp:// endpoint.
std::string host_port(const std::string& url) {
    return url.substr(url.find("://") + 3);
}

bool recent(std::chrono::system_clock::time_point since,
            std::chrono::system_clock::time_point began) {
    return since >= began - 1s && since <= std::chrono::system_clock::now() + 1s;
}

}  // namespace

TEST_CASE(
    "open_connections lists each peer with its address and endpoint, and raw TCP counts "
    "what each carried") {
    const std::string transport = GENERATE(as<std::string>{}, "tcp", "ipc", "raw+tcp");
    CAPTURE(transport);
    const auto began = std::chrono::system_clock::now();
    zpat::puller puller("@" + any_endpoint(transport));
    const std::string bound = puller.endpoints().at(0);
    zpat::pusher left(">" + bound);
    std::optional<zpat::pusher> right(std::in_place, ">" + bound);
    const message big{std::string(100, 'x')};
    const message small{"tiny", "two"};
    for (int i = 0; i < 10; ++i) {
        REQUIRE(left.send(big));
    }
    for (int i = 0; i < 5; ++i) {
        REQUIRE(right->send(small));
    }
    for (int i = 0; i < 15; ++i) {
        REQUIRE(puller.receive(5s));
    }

    std::vector<connection_info> seen;
    REQUIRE(eventually([&] {
        seen = puller.open_connections();
        return seen.size() == 2;
    }));
    std::set<std::string> peers;
    for (const connection_info& c : seen) {
        CAPTURE(c.peer, c.endpoint);
        CHECK(c.endpoint == bound);
        CHECK(recent(c.since, began));
        if (transport == "ipc") {
            CHECK(c.peer == "pid " + std::to_string(::getpid()));
        } else {
            CHECK(c.peer.starts_with("127.0.0.1:"));
            CHECK(c.peer != "127.0.0.1:0");
            peers.insert(c.peer);
        }
    }
    if (transport != "ipc") {
        CHECK(peers.size() == 2);  // two connections, two source ports
    }
    // The socket monitor announces a connection on its own thread, perhaps after the messages.
    std::vector<connection_info> from_left;
    REQUIRE(eventually([&] {
        from_left = left.open_connections();
        return from_left.size() == 1;
    }));
    CHECK(from_left[0].endpoint == bound);
    if (transport != "ipc") {
        CHECK(from_left[0].peer == host_port(bound));
    }

    if (transport == "raw+tcp") {
        // What each carried, in messages and bytes on the wire, as both ends saw it.
        for (const connection_info& c : seen) {
            REQUIRE(c.traffic);
            CHECK(c.peer_role == "pusher");
            CHECK(c.traffic->messages_out == 0);
            CHECK(c.traffic->bytes_out == 0);
        }
        std::vector<std::uint64_t> received;
        std::vector<std::uint64_t> bytes;
        for (const connection_info& c : seen) {
            received.push_back(c.traffic->messages_in.value());
            bytes.push_back(c.traffic->bytes_in);
        }
        std::sort(received.begin(), received.end());
        std::sort(bytes.begin(), bytes.end());
        CHECK(received == std::vector<std::uint64_t>{5, 10});
        CHECK(bytes == std::vector<std::uint64_t>{5 * wire_size(small), 10 * wire_size(big)});
        REQUIRE(from_left[0].traffic);
        CHECK(from_left[0].peer_role == "puller");
        CHECK(from_left[0].traffic->messages_out == 10);
        CHECK(from_left[0].traffic->bytes_out == 10 * wire_size(big));
        CHECK(from_left[0].traffic->messages_in == 0);
    } else if (transport == "tcp") {
        // libzmq counts no messages per connection, and does not say what the peer is; the
        // kernel counts the bytes: ZMTP's 64-byte greeting and handshake, then the messages.
        constexpr std::uint64_t greeting = 64;
        std::vector<std::uint64_t> bytes;
        for (const connection_info& c : seen) {
            REQUIRE(c.traffic);
            CHECK_FALSE(c.traffic->messages_in);
            CHECK_FALSE(c.traffic->messages_out);
            CHECK(c.peer_role.empty());
            bytes.push_back(c.traffic->bytes_in);
        }
        std::sort(bytes.begin(), bytes.end());
        CHECK(bytes[0] > greeting + 5 * (4 + 3));
        CHECK(bytes[1] > greeting + 10 * 100);
        // What the pusher sent counts once the puller has acknowledged it.
        REQUIRE(eventually([&] {
            from_left = left.open_connections();
            return from_left.size() == 1 && from_left[0].traffic &&
                   from_left[0].traffic->bytes_out > greeting + 10 * 100;
        }));
        CHECK(from_left[0].traffic->bytes_in > greeting);
        CHECK(from_left[0].traffic->bytes_in < greeting + 100);  // only the puller's handshake
    } else {
        // Over ipc:// nothing counts per connection.
        for (const connection_info& c : seen) {
            CHECK_FALSE(c.traffic);
            CHECK(c.peer_role.empty());
        }
    }

    // A peer that leaves leaves the list.
    right.reset();
    CHECK(eventually([&] { return puller.open_connections().size() == 1; }));
}

TEST_CASE("the broker lists every device's connections, with the side each came in on",
          "[broker]") {
    const std::string transport = GENERATE(as<std::string>{}, "tcp", "raw+tcp");
    CAPTURE(transport);
    zpat::broker::config cfg;
    cfg.forwarder = zpat::broker::forwarder_config{.frontend = any_endpoint(transport),
                                                   .backend = any_endpoint(transport)};
    running_broker b(cfg);
    zpat::publisher pub(">" + b.forwarder_frontend());
    zpat::subscriber sub(">" + b.forwarder_backend(), {"t"});
    REQUIRE(eventually([&] {
        pub.publish("t", "hello");
        return sub.receive(50ms).has_value();
    }));
    std::vector<zpat::broker::device_connection> all;
    REQUIRE(eventually([&] {
        all = b.get().connections();
        return all.size() == 2;
    }));
    for (const auto& d : all) {
        CAPTURE(d.side, d.connection.peer);
        CHECK(d.device == "forwarder");
        CHECK(d.connection.peer.starts_with("127.0.0.1:"));
        const bool front = d.side == "frontend";
        CHECK(d.connection.endpoint == (front ? b.forwarder_frontend() : b.forwarder_backend()));
        if (transport == "raw+tcp") {
            REQUIRE(d.connection.traffic);
            CHECK(d.connection.peer_role == (front ? "publisher" : "subscriber"));
            // The publisher's messages came in at the front and went out at the back.
            CHECK((front ? d.connection.traffic->messages_in : d.connection.traffic->messages_out) >
                  0);
        } else {
            // The kernel's bytes: the publisher's messages came in at the front and went out
            // at the back.
            REQUIRE(d.connection.traffic);
            CHECK_FALSE(d.connection.traffic->messages_in);
            CHECK((front ? d.connection.traffic->bytes_in : d.connection.traffic->bytes_out) > 64);
        }
    }
    CHECK(std::count_if(all.begin(), all.end(),
                        [](const auto& d) { return d.side == "frontend"; }) == 1);
}
