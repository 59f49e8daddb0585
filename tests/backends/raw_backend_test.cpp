// What only the raw backend has: its own wire format, hostile peers, reconnection.

#include <atomic>
#include <catch2/catch.hpp>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/captured_stderr.hpp"
#include "support/plain_socket.hpp"
#include "support/raw_wire_bytes.hpp"
#include "support/test_support.hpp"
#include "zpat/zpat.hpp"

using namespace zpat::testing;
using zpat::message;

namespace {

// Sends 3 messages through an honest pusher and checks they all arrive.
void three_honest_messages_arrive(zpat::puller& puller) {
    zpat::pusher honest(puller.endpoints()[0]);
    for (int i = 0; i < 3; ++i) {
        REQUIRE(honest.send(message{"honest", std::to_string(i)}));
    }
    for (int i = 0; i < 3; ++i) {
        auto got = puller.receive(5s);
        REQUIRE(got);
        CHECK(*got == message{"honest", std::to_string(i)});
    }
}

}  // namespace

TEST_CASE("raw: a peer that is not zpat is refused and the others carry on") {
    zpat::puller puller("@raw+tcp://127.0.0.1:*");
    plain_socket stranger(puller.endpoints()[0]);
    stranger.send_all("GET / HTTP/1.1\r\n\r\n");
    CHECK(stranger.closed_by_peer());
    CHECK(puller.connections().refused == 1);
    three_honest_messages_arrive(puller);
}

TEST_CASE("raw: a peer declaring a 4 GiB frame is dropped before anything is allocated") {
    zpat::puller puller("@raw+tcp://127.0.0.1:*");
    plain_socket hostile(puller.endpoints()[0]);
    hostile.send_all(pusher_greeting + u32(1) + u32(0xffffffffU));
    CHECK(hostile.closed_by_peer());
    CHECK(puller.connections().malformed == 1);
    three_honest_messages_arrive(puller);
}

TEST_CASE("raw: why a peer was dropped goes to the log sink the application set") {
    std::mutex mutex;
    std::vector<std::string> lines;
    zpat::set_log_sink([&](std::string_view source, std::string_view what) {
        const std::lock_guard lock(mutex);
        lines.push_back(std::string(source) + ": " + std::string(what));
    });
    const auto logged = [&] {
        const std::lock_guard lock(mutex);
        return lines;
    };
    captured_stderr stderr_text;
    {
        zpat::puller puller("@raw+tcp://127.0.0.1:*");
        plain_socket hostile(puller.endpoints()[0]);
        hostile.send_all(pusher_greeting + u32(0));  // a message of no frames
        CHECK(hostile.closed_by_peer());
        CHECK(eventually([&] { return !logged().empty(); }));
    }
    zpat::set_log_sink({});  // back to stderr, for the other tests
    REQUIRE(logged().size() == 1);
    CHECK_THAT(logged()[0], Catch::StartsWith("puller: dropped 127.0.0.1:") &&
                                Catch::Contains("declares 0 frames"));
    CHECK(stderr_text.text().find("declares 0 frames") == std::string::npos);
}

TEST_CASE("raw: a pusher drops a puller that sends, and serves the others") {
    captured_stderr log;
    zpat::pusher pusher("@raw+tcp://127.0.0.1:*");
    plain_socket talker(pusher.endpoints()[0]);
    // A puller's greeting, then a message: the wire format says pullers send nothing.
    talker.send_all(greeting_of('l') + u32(1) + u32(2) + "hi");
    CHECK(talker.read_exactly(8) == greeting_of('u'));
    CHECK(talker.closed_by_peer());
    CHECK(pusher.connections().malformed == 1);
    CHECK(eventually([&] { return log.text().find("pullers send nothing") != std::string::npos; }));
    zpat::puller honest(">" + pusher.endpoints()[0]);
    REQUIRE(pusher.send(message{"after"}));
    auto got = honest.receive(5s);
    REQUIRE(got);
    CHECK(*got == message{"after"});
}

TEST_CASE("raw: streams share the raw I/O thread, with every other raw role") {
    // From here on the I/O thread runs, and so does Asio's resolver thread (one per process).
    zpat::puller started("@raw+tcp://127.0.0.1:*");
    zpat::pusher dialled(started.endpoints()[0]);
    REQUIRE(dialled.send(message{"up"}));
    REQUIRE(started.receive(5s));
    const std::size_t before = thread_count();
    REQUIRE(before > 0);
    std::vector<zpat::stream> streams;
    for (int i = 0; i < 20; ++i) {
        streams.emplace_back("@raw+tcp://127.0.0.1:*");
    }
    zpat::stream client(">" + streams.back().endpoints()[0]);
    auto opened = streams.back().receive(5s);
    REQUIRE(opened);
    CHECK(opened->what == zpat::stream::event::type::opened);
    CHECK(thread_count() == before);
}

TEST_CASE("raw: a peer declaring too many frames is dropped") {
    zpat::puller puller("@raw+tcp://127.0.0.1:*");
    plain_socket hostile(puller.endpoints()[0]);
    hostile.send_all(pusher_greeting + u32(100000));
    CHECK(hostile.closed_by_peer());
    three_honest_messages_arrive(puller);
}

TEST_CASE("raw: a message sent one byte at a time arrives whole") {
    zpat::puller puller("@raw+tcp://127.0.0.1:*");
    plain_socket slow(puller.endpoints()[0]);
    const std::string bytes = pusher_greeting + u32(2) + u32(5) + "hello" + u32(0);
    for (char c : bytes) {
        slow.send_all(std::string_view(&c, 1));
    }
    auto got = puller.receive(5s);
    REQUIRE(got);
    CHECK(*got == message{"hello", ""});
}

TEST_CASE("raw: a peer that closes mid-frame costs the others nothing") {
    zpat::puller puller("@raw+tcp://127.0.0.1:*");
    {
        plain_socket quitter(puller.endpoints()[0]);
        quitter.send_all(pusher_greeting + u32(1) + u32(1000) + "only part of it");
    }
    three_honest_messages_arrive(puller);
    CHECK_FALSE(puller.receive(100ms));
}

TEST_CASE("raw: closing a socket also closes a connection that never sent its greeting") {
    std::optional<zpat::puller> puller(std::in_place, "@raw+tcp://127.0.0.1:*");
    plain_socket silent(puller->endpoints()[0]);
    REQUIRE(silent.read_exactly(8).size() == 8);  // the puller's greeting: it was accepted
    puller.reset();
    CHECK(silent.closed_by_peer());
}

TEST_CASE("raw: a pusher with no reachable puller queues up to its high-water mark") {
    std::string endpoint;
    {
        zpat::puller gone("@raw+tcp://127.0.0.1:*");
        endpoint = gone.endpoints()[0];
    }
    zpat::pusher pusher(endpoint, {.send_high_water_mark = 5, .send_timeout = 0ms});
    int accepted = 0;
    while (accepted < 100 && pusher.send(message{"job"})) {
        ++accepted;
    }
    CHECK(accepted == 5);
}

TEST_CASE("raw: messages queued before any puller exists are delivered in order when it appears") {
    const reserved_port port;
    const std::string endpoint = port.endpoint("raw+tcp");
    zpat::pusher pusher(endpoint);
    for (int i = 0; i < 3; ++i) {
        REQUIRE(pusher.send(message{std::to_string(i)}));
    }
    zpat::puller puller("@" + endpoint);
    for (int i = 0; i < 3; ++i) {
        auto got = puller.receive(10s);
        REQUIRE(got);
        CHECK(got->front() == std::to_string(i));
    }
}

TEST_CASE("raw: a pusher reconnects to a puller that comes back") {
    auto puller = std::make_unique<zpat::puller>("@raw+tcp://127.0.0.1:*");
    const std::string endpoint = puller->endpoints()[0];
    zpat::pusher pusher(endpoint);
    REQUIRE(pusher.send(message{"before"}));
    REQUIRE(puller->receive(5s));
    puller.reset();
    puller = std::make_unique<zpat::puller>("@" + endpoint);
    // What was written into the old connection as it died is lost, as with any TCP peer; so
    // keep sending until the new puller hears one.
    std::optional<message> got;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!got && std::chrono::steady_clock::now() < deadline) {
        REQUIRE(pusher.send(message{"after"}));
        got = puller->receive(20ms);
    }
    REQUIRE(got);
    CHECK(got->front() == "after");
}

TEST_CASE("raw: a subscriber replays its subscriptions to a publisher that restarted") {
    auto pub = std::make_unique<zpat::publisher>("@raw+tcp://127.0.0.1:*");
    const std::string endpoint = pub->endpoints()[0];
    zpat::subscriber sub(endpoint, {"news"});
    REQUIRE(pub->wait_for_subscriptions(1, 5s));
    pub.reset();
    pub = std::make_unique<zpat::publisher>("@" + endpoint);
    REQUIRE(pub->wait_for_subscriptions(1, 10s));
    pub->publish("news", "again");
    auto got = sub.receive(5s);
    REQUIRE(got);
    CHECK(*got == message{"news", "again"});
}

TEST_CASE("raw: a mismatched role cannot connect, and the right one still can") {
    zpat::publisher pub("@raw+tcp://127.0.0.1:*");
    // A pusher's greeting is answered with the publisher's own and then the close, at the
    // greeting: nothing else is sent, so a side that accepted it would keep the connection open.
    plain_socket wrong(pub.endpoints()[0]);
    wrong.send_all(pusher_greeting);
    CHECK(wrong.read_exactly(8) == publisher_greeting);
    CHECK(wrong.closed_by_peer());
    CHECK(pub.connections().refused == 1);
    // A subscriber's greeting and subscription are taken, and it is served.
    plain_socket right(pub.endpoints()[0]);
    right.send_all(subscriber_greeting + u32(1) + u32(2) + "\x01t");
    CHECK(right.read_exactly(8) == publisher_greeting);
    REQUIRE(pub.wait_for_subscriptions(1, 5s));
    pub.publish("t", "served");
    CHECK(right.read_exactly(4 + 4 + 1 + 4 + 6) == u32(2) + u32(1) + "t" + u32(6) + "served");
    // zpat's own pusher is refused the same way; it neither counts nor takes a message.
    zpat::pusher pusher(pub.endpoints()[0], {.send_timeout = 0ms});
    REQUIRE(pusher.send(message{"queued for a peer that will never accept it"}));
    CHECK(pub.subscriptions_seen() == 1);
}

TEST_CASE(
    "raw: 1 MB subscription prefixes, subscribed, dropped and left, cost the publisher nothing") {
    // With no prefix limit, so that the trie itself is what is tested (it once removed a long
    // prefix recursively, and overflowed the stack).
    zpat::publisher pub("@raw+tcp://127.0.0.1:*", {.max_subscription_prefix = 0});
    const std::string huge(1 << 20, 'h');
    const auto subscription = [](char command, const std::string& prefix) {
        return u32(1) + u32(static_cast<std::uint32_t>(prefix.size() + 1)) + command + prefix;
    };
    {
        // One unsubscribes its huge prefix; another leaves with its huge prefix still held.
        plain_socket unsubscribes(pub.endpoints()[0]);
        unsubscribes.send_all(subscriber_greeting + subscription('\x01', huge) +
                              subscription('\x00', huge));
        plain_socket leaves(pub.endpoints()[0]);
        leaves.send_all(subscriber_greeting + subscription('\x01', huge + "x"));
        REQUIRE(pub.wait_for_subscriptions(2, 5s));
    }
    // The publisher is alive and serves a well-behaved subscriber, which gets only its topic.
    zpat::subscriber honest(pub.endpoints()[0], {"t"});
    REQUIRE(pub.wait_for_subscriptions(3, 5s));
    pub.publish(huge + "x", "for nobody now");
    pub.publish("t", "served");
    auto got = honest.receive(5s);
    REQUIRE(got);
    CHECK(*got == message{"t", "served"});
}

TEST_CASE("raw+udp: a pipeline is refused by name, since UDP has no flow control") {
    CHECK_THROWS_WITH(zpat::pusher("raw+udp://127.0.0.1:7001"),
                      Catch::Matchers::Contains("pusher on raw+udp:// is not supported"));
    CHECK_THROWS_AS(zpat::puller("@raw+udp://127.0.0.1:*"), zpat::unsupported_error);
}

TEST_CASE("raw+udp: a message larger than one datagram is refused with a clear error") {
    zpat::replier replier("@raw+udp://127.0.0.1:*");
    zpat::requester requester(replier.endpoints()[0]);
    CHECK_THROWS_WITH(requester.request(message{std::string(70000, 'x')}),
                      Catch::Matchers::Contains("does not fit one UDP datagram"));
}

TEST_CASE("raw+udp: a retried request is recognised and answered without running it twice") {
    zpat::replier replier("@raw+udp://127.0.0.1:*");
    std::atomic<int> calls{0};
    std::thread server([&] {
        replier.serve([&](message request) {
            ++calls;
            // Slower than the client's timeout: its retries arrive while this one runs.
            std::this_thread::sleep_for(250ms);
            return request;
        });
    });
    zpat::requester requester(replier.endpoints()[0], {.request_timeout = 100ms, .retries = 10});
    auto reply = requester.request(message{"once"});
    replier.stop();
    server.join();
    REQUIRE(reply);
    CHECK(reply->front() == "once");
    CHECK(requester.last_attempts() > 1);
    CHECK(calls == 1);
}

TEST_CASE("raw+udp: a subscriber counts what the network lost") {
    zpat::publisher pub("@raw+udp://127.0.0.1:*");
    zpat::subscriber sub(pub.endpoints()[0], {""});
    REQUIRE(pub.wait_for_subscriptions(1, 5s));
    // Far more than the subscriber's socket buffer holds while it is not reading.
    constexpr int sent = 20000;
    const std::string payload(1000, 'x');
    for (int i = 0; i < sent; ++i) {
        pub.publish("t", payload);
    }
    int received = 0;
    while (sub.receive(200ms)) {
        ++received;
    }
    // Losses show as gaps: the next message reveals what the burst lost at its end.
    pub.publish("t", "after");
    auto last = sub.receive(5s);
    REQUIRE(last);
    CHECK(received > 0);
    CHECK(sub.lost_messages() > 0);
    CHECK(received + 1 + static_cast<int>(sub.lost_messages()) == sent + 1);
}

TEST_CASE("raw endpoints take IPv6 addresses in brackets and report them so") {
    for (const std::string scheme : {"raw+tcp", "raw+udp"}) {
        CAPTURE(scheme);
        zpat::replier server("@" + scheme + "://[::1]:*");
        REQUIRE(server.endpoints()[0].starts_with(scheme + "://[::1]:"));
        zpat::requester client(">" + server.endpoints()[0]);
        std::thread serving([&] {
            if (auto request = server.receive(5s)) {
                server.reply(*request);
            }
        });
        const auto reply = client.request(message{"over IPv6"});
        serving.join();
        REQUIRE(reply);
        CHECK(*reply == message{"over IPv6"});
    }
}
