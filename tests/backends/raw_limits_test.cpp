// The raw backend's limits on each connection: each closes only the offending connection,
// says why in the log, and a well-behaved peer at the same time loses nothing.

#include <atomic>
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <thread>

#include "support/captured_stderr.hpp"
#include "support/plain_socket.hpp"
#include "support/raw_wire_bytes.hpp"
#include "support/subscriber_checks.hpp"
#include "support/test_support.hpp"
#include "zpat/zpat.hpp"

using namespace zpat::testing;
using zpat::message;

namespace {

// An honest pusher sends `count` messages while the test's offender is connected; all arrive.
void honest_traffic_arrives(zpat::puller& puller, int count = 20) {
    zpat::pusher honest(puller.endpoints()[0]);
    for (int i = 0; i < count; ++i) {
        REQUIRE(honest.send(message{"honest", std::to_string(i)}));
        auto got = puller.receive(5s);
        REQUIRE(got);
        CHECK(*got == message{"honest", std::to_string(i)});
    }
}

bool logged(const captured_stderr& log, const std::string& words) {
    return eventually([&] { return log.text().find(words) != std::string::npos; });
}

}  // namespace

TEST_CASE("raw limits: a peer that never sends its greeting is closed after handshake_timeout") {
    captured_stderr log;
    zpat::puller puller("@raw+tcp://127.0.0.1:*", {.handshake_timeout = 200ms});
    plain_socket silent(puller.endpoints()[0]);
    const auto opened = std::chrono::steady_clock::now();
    honest_traffic_arrives(puller);
    CHECK(silent.closed_by_peer());
    CHECK(std::chrono::steady_clock::now() - opened >= 200ms);
    CHECK(logged(log, "no greeting within 200 ms"));
    CHECK(puller.connections().handshake_timeouts == 1);
    CHECK(puller.connections().opened == 2);
}

TEST_CASE("raw limits: a message trickled slower than partial_message_timeout is closed") {
    captured_stderr log;
    zpat::puller puller("@raw+tcp://127.0.0.1:*", {.partial_message_timeout = 300ms});
    plain_socket trickler(puller.endpoints()[0]);
    // It declares a 1000-byte frame and sends ten bytes of it.
    trickler.send_all(pusher_greeting + u32(1) + u32(1000) + std::string(10, 't'));
    const auto began = std::chrono::steady_clock::now();
    honest_traffic_arrives(puller);
    CHECK(trickler.closed_by_peer());
    CHECK(std::chrono::steady_clock::now() - began >= 300ms);
    CHECK(logged(log, "was not complete within 300 ms"));
    CHECK(puller.connections().partial_timeouts == 1);
    CHECK_FALSE(puller.receive(0ms));  // nothing of the trickler's was delivered
}

TEST_CASE("raw limits: a message that arrives steadily within the limit is not cut") {
    zpat::puller puller("@raw+tcp://127.0.0.1:*", {.partial_message_timeout = 2s});
    plain_socket slow(puller.endpoints()[0]);
    slow.send_all(pusher_greeting + u32(1) + u32(6) + "sl");
    std::this_thread::sleep_for(300ms);  // well inside the limit: the point is to be slow
    slow.send_all("owly");
    auto got = puller.receive(5s);
    REQUIRE(got);
    CHECK(*got == message{"slowly"});
}

TEST_CASE("raw limits: with idle_timeout, a peer that falls silent is closed") {
    captured_stderr log;
    zpat::puller puller("@raw+tcp://127.0.0.1:*", {.idle_timeout = 300ms});
    plain_socket quiet(puller.endpoints()[0]);
    quiet.send_all(pusher_greeting);
    honest_traffic_arrives(puller);
    CHECK(quiet.closed_by_peer());
    CHECK(logged(log, "nothing received for 300 ms"));
    CHECK(puller.connections().idle_timeouts == 1);
    CHECK(puller.connections().handshake_timeouts == 0);
}

TEST_CASE(
    "raw limits: a pusher queues at most send_high_water_bytes for a puller that never "
    "reads") {
    // A puller that takes the greeting and then reads nothing: what the pusher holds for it is
    // the byte limit plus what the kernel's socket buffers absorb, never the message count.
    zpat::puller unread("@raw+tcp://127.0.0.1:*", {.receive_high_water_mark = 1});
    const std::string kilobyte(1024, 'k');
    zpat::pusher pusher(
        unread.endpoints()[0],
        {.send_high_water_mark = 0, .send_high_water_bytes = 256 * 1024, .send_timeout = 0ms});
    int accepted = 0;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    int quiet = 0;
    while (accepted < 200000 && quiet < 50 && std::chrono::steady_clock::now() < deadline) {
        if (pusher.send(message{kilobyte})) {
            ++accepted;
            quiet = 0;
        } else {
            ++quiet;
            std::this_thread::sleep_for(2ms);  // the socket buffers may still take a little
        }
    }
    CAPTURE(accepted);
    CHECK(quiet == 50);
    CHECK(accepted < 64 * 1024);  // 64 MB: far above buffers plus limit, far below no limit
}

TEST_CASE(
    "raw limits: a subscriber that never reads costs the publisher its byte limit, and "
    "another loses nothing") {
    zpat::publisher pub("@raw+tcp://127.0.0.1:*",
                        {.send_high_water_mark = 0, .send_high_water_bytes = 256 * 1024});
    plain_socket unread(pub.endpoints()[0]);
    unread.send_all(subscriber_greeting + u32(1) + u32(1) + "\x01");
    zpat::subscriber honest(pub.endpoints()[0], {""});
    REQUIRE(pub.wait_for_subscriptions(2, 5s));
    const std::string kilobyte(1024, 'k');
    constexpr int count = 30000;  // 30 MB: more than the socket buffers of `unread` hold
    for (int i = 0; i < count; ++i) {
        pub.publish("t", kilobyte);
        auto got = honest.receive(5s);
        REQUIRE(got);
    }
    CHECK(pub.dropped() > 0);  // the unread subscriber's, past its limit
}

TEST_CASE("raw limits: a replier drops replies a client leaves unread past the high-water mark") {
    // A client that pipelines requests and reads no reply: the replier keeps at most its
    // high-water mark of replies for it (libzmq's ROUTER drops there too), not all of them.
    constexpr int requests = 200;
    const std::string large(256 * 1024, 'r');  // 50 MB in all: more than socket buffers hold
    std::atomic<int> handled{0};
    zpat::replier rep("@raw+tcp://127.0.0.1:*", {.send_high_water_mark = 4});
    std::thread serving([&] {
        rep.serve([&](const message&) {
            ++handled;
            return message{large};
        });
    });
    plain_socket greedy(rep.endpoints()[0]);
    std::string pipelined = greeting_of('q');
    for (int i = 0; i < requests; ++i) {
        pipelined += u32(1) + u32(1) + "?";
    }
    greedy.send_all(pipelined);
    REQUIRE(eventually([&] { return handled == requests; }));

    // Meanwhile an honest client is answered.
    zpat::requester honest(rep.endpoints()[0]);
    CHECK(honest.request(message{"hello"}) == message{large});

    greedy.set_read_timeout(500ms);
    const std::string replies = greedy.read_to_end();
    const std::size_t received = (replies.size() - 8) / (8 + large.size());
    CAPTURE(received);
    CHECK(received < requests / 2);
    rep.stop();
    serving.join();
}

TEST_CASE("raw limits: a puller holds at most receive_high_water_bytes of unreceived messages") {
    // No count limit at the puller: only the byte budget stops it reading, and the pusher then
    // waits. Without the budget the puller would take everything the pusher has.
    zpat::puller puller("@raw+tcp://127.0.0.1:*",
                        {.receive_high_water_mark = 0, .receive_high_water_bytes = 1024 * 1024});
    zpat::pusher pusher(puller.endpoints()[0], {.send_high_water_mark = 10, .send_timeout = 0ms});
    const std::string block(64 * 1024, 'b');
    int accepted = 0;
    int quiet = 0;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (accepted < 20000 && quiet < 50 && std::chrono::steady_clock::now() < deadline) {
        if (pusher.send(message{block})) {
            ++accepted;
            quiet = 0;
        } else {
            ++quiet;
            std::this_thread::sleep_for(2ms);  // the socket buffers may still take a little
        }
    }
    CAPTURE(accepted);
    CHECK(quiet == 50);
    CHECK(accepted < 2000);  // 128 MB: far above budget plus socket buffers
    // Nothing is lost: reading resumes as the puller takes what waits.
    for (int i = 0; i < accepted; ++i) {
        REQUIRE(puller.receive(5s));
    }
}

TEST_CASE("raw limits: a subscriber past max_subscriptions or max_subscription_prefix is cut off") {
    // Both publisher kinds, since the forwarder's backend is an xpublisher.
    const bool extended = GENERATE(false, true);
    CAPTURE(extended);
    captured_stderr log;
    const zpat::options limits{.max_subscriptions = 3, .max_subscription_prefix = 16};
    std::unique_ptr<zpat::publisher> plain;
    std::unique_ptr<zpat::xpublisher> ext;
    std::string at;
    if (extended) {
        ext = std::make_unique<zpat::xpublisher>("@raw+tcp://127.0.0.1:*", limits);
        at = ext->endpoints()[0];
    } else {
        plain = std::make_unique<zpat::publisher>("@raw+tcp://127.0.0.1:*", limits);
        at = plain->endpoints()[0];
    }
    const auto over_limits = [&] {
        return extended ? ext->connections().over_limits : plain->connections().over_limits;
    };
    const auto publish = [&](const message& msg) {
        return extended ? ext->send(msg) : plain->send(msg);
    };

    zpat::subscriber honest(at, {"news"});
    {
        zpat::subscriber hoarder(at, {"a", "b", "c", "d"});  // one more than allowed
        REQUIRE(eventually([&] { return over_limits() >= 1; }));
        CHECK(logged(log, "past options::max_subscriptions"));
    }
    const std::uint64_t before = over_limits();  // the hoarder may have come back meanwhile
    zpat::subscriber longwinded(at, {std::string(17, 'x')});
    REQUIRE(eventually([&] { return over_limits() > before; }));
    CHECK(logged(log, "longer than options::max_subscription_prefix"));

    // The honest subscriber still gets every message.
    honest_subscriber_gets_all(honest, publish);
}

TEST_CASE(
    "raw limits: a raw xsubscriber, which keeps messages encoded, cuts off a publisher "
    "that breaks the format or trickles, and an honest one loses nothing") {
    captured_stderr log;
    zpat::xsubscriber xsub("@raw+tcp://127.0.0.1:*",
                           {.max_message_size = 1000, .partial_message_timeout = 300ms});
    xsub.subscribe("");
    // A whole message, then a frame over max_message_size: the first is delivered, the
    // connection dropped at the second's header.
    plain_socket oversized(xsub.endpoints()[0]);
    oversized.send_all(publisher_greeting + message_bytes({"t", "whole"}) + u32(1) + u32(5000));
    message got;
    REQUIRE(xsub.receive(got, 5s));
    CHECK(got == message{"t", "whole"});
    CHECK(oversized.closed_by_peer());
    CHECK(logged(log, "exceeds max_message_size of 1000"));
    CHECK(xsub.connections().malformed == 1);
    // A message declared within the limit and never finished: closed after the timeout.
    plain_socket trickler(xsub.endpoints()[0]);
    trickler.send_all(publisher_greeting + u32(1) + u32(900) + std::string(10, 't'));
    zpat::publisher honest(">" + xsub.endpoints()[0]);
    REQUIRE(honest.wait_for_subscriptions(1, 5s));
    for (int i = 0; i < 20; ++i) {
        REQUIRE(honest.publish("honest", std::to_string(i)));
        REQUIRE(xsub.receive(got, 5s));
        CHECK(got == message{"honest", std::to_string(i)});
    }
    CHECK(trickler.closed_by_peer());
    CHECK(logged(log, "was not complete within 300 ms"));
    CHECK(xsub.connections().partial_timeouts == 1);
    CHECK_FALSE(xsub.receive(got, 0ms));  // nothing of the trickler's was delivered
}
