// The roles a broker is built from: router, xpublisher / xsubscriber and relay. The router is
// ZeroMQ's and is refused by name on the raw backend; xpublisher and xsubscriber also run on raw
// TCP (not on raw UDP); a relay works between any receiving and sending roles.

#include <catch2/catch.hpp>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "support/plain_socket.hpp"
#include "support/raw_wire_bytes.hpp"
#include "support/subscriber_checks.hpp"
#include "support/test_support.hpp"
#include "zpat/core/endpoint.hpp"
#include "zpat/core/error.hpp"
#include "zpat/pipeline.hpp"
#include "zpat/pubsub.hpp"
#include "zpat/relay.hpp"
#include "zpat/reqrep.hpp"
#include "zpat/router.hpp"
#include "zpat/service.hpp"

using namespace zpat::testing;
using zpat::message;

namespace {

// The router's two I/O models: libzmq's I/O thread, or zpat's own ZMTP engine on the caller's
// thread (io_model::caller: tcp:// binds, sending without waiting).
zpat::options router_io(const std::string& model, zpat::options opts = {}) {
    if (model == "caller") {
        opts.io = zpat::io_model::caller;
        opts.send_timeout = 0ms;
    }
    return opts;
}

}  // namespace

TEST_CASE("a router answers each requester through the identity its message carries") {
    const auto [transport, io] = GENERATE(table<std::string, std::string>(
        {{"tcp", "io_thread"}, {"ipc", "io_thread"}, {"inproc", "io_thread"}, {"tcp", "caller"}}));
    CAPTURE(transport, io);
    zpat::router server("@" + any_endpoint(transport), router_io(io));
    zpat::requester alice(server.endpoints()[0]);
    zpat::requester bob(server.endpoints()[0]);
    std::thread answer([&] {
        for (int i = 0; i < 2; ++i) {
            auto msg = server.receive(5s);
            REQUIRE(msg);
            REQUIRE(msg->size() == 3);  // identity, the requester's empty delimiter, the body
            CHECK(msg->at(1).empty());
            REQUIRE(server.send(message{msg->at(0), "", "re: " + msg->at(2)}));
        }
    });
    auto from_alice = alice.request(message{"alice"});
    auto from_bob = bob.request(message{"bob"});
    answer.join();
    REQUIRE(from_alice);
    REQUIRE(from_bob);
    CHECK(*from_alice == message{"re: alice"});
    CHECK(*from_bob == message{"re: bob"});
}

TEST_CASE("a router counts a message to a peer that is not there, and sends on") {
    const std::string io = GENERATE(as<std::string>{}, "io_thread", "caller");
    CAPTURE(io);
    zpat::router server("@" + any_endpoint("tcp"), router_io(io));
    CHECK_FALSE(server.send(message{"nobody", "", "lost"}));
    CHECK(server.unroutable() == 1);

    zmq::context_t ctx;
    zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
    dealer.set(zmq::sockopt::routing_id, "known");
    dealer.connect(server.endpoints()[0]);
    dealer.send(zmq::str_buffer("hi"));
    auto hello = server.receive(5s);
    REQUIRE(hello);
    CHECK(*hello == message{"known", "hi"});
    CHECK(server.send(message{"known", "back"}));
    zmq::message_t reply;
    REQUIRE(dealer.recv(reply));
    CHECK(reply.to_string() == "back");
    CHECK(server.unroutable() == 1);
}

TEST_CASE("a router drops a message over max_message_size and keeps its sender") {
    const std::string io = GENERATE(as<std::string>{}, "io_thread", "caller");
    CAPTURE(io);
    zpat::router server("@" + any_endpoint("tcp"),
                        router_io(io, zpat::options{.max_message_size = 1000}));
    zmq::context_t ctx;
    zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
    dealer.connect(server.endpoints()[0]);
    dealer.send(zmq::buffer(std::string(1500, 'x')));  // over the limit, under twice it
    dealer.send(zmq::str_buffer("small"));
    auto msg = server.receive(5s);
    REQUIRE(msg);
    CHECK(msg->at(1) == "small");
    CHECK(server.oversized_dropped() == 1);
}

TEST_CASE(
    "io_model::caller is a router's or an xpublisher's binding tcp://, or a requester's "
    "connecting to it, the rest refuse it by name") {
    const zpat::options caller = router_io("caller");
    const auto refused = [&](auto make) {
        try {
            make();
        } catch (const zpat::unsupported_error& e) {
            return std::string(e.what());
        }
        FAIL("made, where it should have been refused");
        return std::string();
    };
    CHECK_THAT(refused([&] { zpat::puller p("@" + any_endpoint("tcp"), caller); }),
               Catch::Contains("built for the router, the xpublisher, the xsubscriber, the "
                               "requester and the service client and worker only"));
    CHECK_THAT(refused([&] { zpat::requester r("@" + any_endpoint("tcp"), caller); }),
               Catch::Contains("a requester connecting to tcp:// endpoints only, not '@tcp://"));
    CHECK_THAT(refused([&] { zpat::service_client c(absent_endpoint(), caller); }),
               Catch::Contains("a service client connecting to tcp:// endpoints only, not "
                               "'>ipc://"));
    CHECK_THAT(refused([&] { zpat::router r("@" + any_endpoint("ipc"), caller); }),
               Catch::Contains("tcp:// endpoints only, not '@ipc://"));
    CHECK_THAT(refused([&] { zpat::router r(">tcp://127.0.0.1:5", caller); }),
               Catch::Contains("not '>tcp://127.0.0.1:5'"));
    CHECK_THAT(refused([&] {
                   zpat::router r("@" + any_endpoint("tcp"),
                                  zpat::options{.io = zpat::io_model::caller});
               }),
               Catch::Contains("send_timeout to 0"));
    zpat::options secured = caller;
    secured.curve = zpat::curve_options{};
    CHECK_THAT(refused([&] { zpat::router r("@" + any_endpoint("tcp"), secured); }),
               Catch::Contains("no CURVE yet"));
    CHECK_THAT(refused([&] { zpat::requester r(">tcp://127.0.0.1:5", secured); }),
               Catch::Contains("no CURVE yet; a requester"));
    CHECK_NOTHROW(zpat::check_offered(zpat::role_kind::router, "tcp://127.0.0.1:*", caller));
    CHECK_THROWS_AS(zpat::check_offered(zpat::role_kind::dealer, "tcp://127.0.0.1:*", caller),
                    zpat::unsupported_error);
}

TEST_CASE("an xpublisher hands over every subscription, and an xsubscriber sends its own") {
    const std::string transport = GENERATE(as<std::string>{}, "tcp", "ipc", "inproc", "raw+tcp");
    CAPTURE(transport);
    zpat::xpublisher xpub("@" + any_endpoint(transport));
    zpat::subscriber sub(xpub.endpoints()[0], {"weather."});
    message got;
    REQUIRE(xpub.receive_subscription(got, 5s));
    CHECK(got == message{"\x01weather."});
    sub.subscribe("weather.");  // repeated: an xpublisher sees that too
    REQUIRE(xpub.receive_subscription(got, 5s));
    CHECK(got == message{"\x01weather."});
    sub.unsubscribe("weather.");
    sub.unsubscribe("weather.");  // the subscriber counts: its last unsubscribe goes upstream
    REQUIRE(xpub.receive_subscription(got, 5s));
    CHECK(got == message{std::string(1, '\0') + "weather."});

    zpat::publisher pub("@" + any_endpoint(transport));
    zpat::xsubscriber xsub(pub.endpoints()[0]);
    xsub.subscribe("a");
    REQUIRE(pub.wait_for_subscriptions(1, 5s));
    pub.publish("b", "no");
    pub.publish("a", "yes");
    REQUIRE(xsub.receive(got, 5s));
    CHECK(got == message{"a", "yes"});
}

TEST_CASE("a relay moves whole messages between roles, on every pair of backends") {
    const std::string from_transport = GENERATE(as<std::string>{}, "tcp", "inproc", "raw+tcp");
    const std::string to_transport = GENERATE(as<std::string>{}, "tcp", "raw+tcp");
    const bool every_frame = GENERATE(true, false);
    const auto which = every_frame ? zpat::watched_frames::all : zpat::watched_frames::first;
    CAPTURE(from_transport, to_transport, every_frame);
    zpat::puller front("@" + any_endpoint(from_transport));
    zpat::pusher producer(front.endpoints()[0]);
    zpat::pusher back("@" + any_endpoint(to_transport));
    zpat::puller worker(">" + back.endpoints()[0]);
    zpat::relay link(front, back);

    std::vector<std::string> seen;
    for (int i = 0; i < 100; ++i) {
        REQUIRE(producer.send(message{"job", std::to_string(i), ""}));
    }
    int moved = 0;
    std::uint64_t bytes = 0;
    REQUIRE(eventually([&] {
        const auto watch = [&](std::size_t index, std::string_view frame, bool last) {
            seen.push_back(std::to_string(index) + ":" + std::string(frame) + (last ? "." : ""));
        };
        const zpat::relayed step = link.step(watch, which);
        if (step.what == zpat::relayed::moved) {
            moved += static_cast<int>(step.messages);
            bytes += step.bytes;
        }
        return moved == 100;
    }));
    if (every_frame) {
        REQUIRE(seen.size() == 300);
        CHECK(seen[0] == "0:job");
        CHECK(seen[1] == "1:0");
        CHECK(seen[2] == "2:.");
    } else {
        CHECK(seen == std::vector<std::string>(100, "0:job"));
    }
    CHECK(bytes == 100 * 3 + 190);  // "job" each, and the numbers 0..99
    for (int i = 0; i < 100; ++i) {
        auto msg = worker.receive(5s);
        REQUIRE(msg);
        CHECK(*msg == message{"job", std::to_string(i), ""});
    }
}

TEST_CASE("a relay loses only the message its destination refuses, and moves the rest") {
    const std::string to_transport = GENERATE(as<std::string>{}, "tcp", "raw+tcp");
    CAPTURE(to_transport);
    zpat::puller front("@" + any_endpoint("raw+tcp"));
    zpat::pusher producer(front.endpoints()[0]);
    zpat::pusher back("@" + any_endpoint(to_transport), {.max_message_size = 100});
    zpat::puller worker(">" + back.endpoints()[0]);
    zpat::relay link(front, back);

    REQUIRE(producer.send(message{"before"}));
    REQUIRE(producer.send(message{std::string(200, 'x')}));  // over the destination's limit
    REQUIRE(producer.send(message{"after"}));
    std::uint64_t moved = 0;
    int refused = 0;
    REQUIRE(eventually([&] {
        try {
            const zpat::relayed step = link.step();
            moved += step.what == zpat::relayed::moved ? 1 : 0;
        } catch (const zpat::error& e) {
            CHECK_THAT(e.what(), Catch::Contains("max_message_size"));
            ++refused;
        }
        return moved == 2;
    }));
    CHECK(refused == 1);
    for (const char* expected : {"before", "after"}) {
        auto msg = worker.receive(5s);
        REQUIRE(msg);
        CHECK(*msg == message{expected});
    }
}

TEST_CASE("a relay holds a message the destination has no room for, and loses nothing") {
    const std::string transport = GENERATE(as<std::string>{}, "tcp", "raw+tcp");
    CAPTURE(transport);
    const zpat::options small{.send_high_water_mark = 5,
                              .receive_high_water_mark = 5,
                              .send_timeout = std::chrono::milliseconds{0}};
    zpat::puller front("@" + any_endpoint(transport), small);
    zpat::pusher producer(front.endpoints()[0], small);
    zpat::pusher back("@" + any_endpoint(transport), small);
    zpat::relay link(front, back);

    constexpr int total = 200;
    int sent = 0;
    bool held = false;
    REQUIRE(eventually([&] {  // nobody pulls from `back`, so the relay must come to hold
        while (sent < total && producer.send(message{std::to_string(sent)})) {
            ++sent;
        }
        held = link.step().what == zpat::relayed::held;
        return held;
    }));

    zpat::puller worker(">" + back.endpoints()[0], small);
    std::vector<std::string> got;
    REQUIRE(eventually(
        [&] {
            while (sent < total && producer.send(message{std::to_string(sent)})) {
                ++sent;
            }
            link.step();
            message msg;
            while (worker.receive(msg, std::chrono::milliseconds{0})) {
                got.push_back(msg.at(0));
            }
            return got.size() == total;
        },
        10s));
    for (int i = 0; i < total; ++i) {
        CHECK(got[static_cast<std::size_t>(i)] == std::to_string(i));
    }
}

namespace {

// A raw forwarder's two sides: `pub` publishes into `xsub`, `xpub` serves subscribers, and
// forward() passes their subscriptions upstream.
struct raw_forwarder {
    explicit raw_forwarder(const zpat::options& downstream = {}, const zpat::options& upstream = {})
        : pub("@raw+tcp://127.0.0.1:*", upstream),
          xsub(">" + pub.endpoints()[0]),
          xpub("@raw+tcp://127.0.0.1:*", downstream) {}
    void forward() {
        message sub;
        while (xpub.receive_subscription(sub, 0ms)) {
            xsub.send(sub);
        }
    }
    zpat::publisher pub;
    zpat::xsubscriber xsub;
    zpat::xpublisher xpub;
};

}  // namespace

TEST_CASE("a raw forwarder passes messages through whole, in order, to each matching subscriber") {
    const bool every_frame = GENERATE(true, false);
    CAPTURE(every_frame);
    raw_forwarder fwd;
    zpat::subscriber alpha(fwd.xpub.endpoints()[0], {"a"});
    zpat::subscriber all(fwd.xpub.endpoints()[0], {""});
    REQUIRE(eventually([&] {
        fwd.forward();
        return fwd.pub.subscriptions_seen() == 2;
    }));
    zpat::relay link(fwd.xsub, fwd.xpub);
    constexpr int total = 900;  // many to a read (within the high-water marks): batches pass
    std::uint64_t payload = 0;
    for (int i = 0; i < total; ++i) {
        const message msg =
            i % 3 == 0   ? message{"a", std::to_string(i)}
            : i % 3 == 1 ? message{"b", "", std::string(static_cast<std::size_t>(i % 50), 'x')}
                         : message{"ab"};
        payload += msg.byte_size();
        REQUIRE(fwd.pub.send(msg));
    }
    std::uint64_t moved = 0;
    std::uint64_t bytes = 0;
    std::uint64_t frames_seen = 0;
    std::uint64_t lasts_seen = 0;
    std::string topics_seen;
    REQUIRE(eventually([&] {
        const auto watch = [&](std::size_t index, std::string_view frame, bool last) {
            ++frames_seen;
            lasts_seen += last ? 1 : 0;
            if (index == 0) {
                topics_seen.append(frame).append(" ");
            }
        };
        const zpat::relayed step =
            link.step(watch, every_frame ? zpat::watched_frames::all : zpat::watched_frames::first);
        moved += step.messages;
        bytes += step.bytes;
        return moved == total;
    }));
    CHECK(bytes == payload);
    std::string topics;
    for (int i = 0; i < total / 3; ++i) {
        topics += "a b ab ";
    }
    CHECK(topics_seen == topics);
    if (every_frame) {
        CHECK(lasts_seen == total);
        CHECK(frames_seen == std::uint64_t{total} / 3 * (2 + 3 + 1));
    } else {  // only "ab" is a message of one frame
        CHECK(lasts_seen == total / 3);
        CHECK(frames_seen == total);
    }
    for (int i = 0; i < total; ++i) {
        auto msg = all.receive(5s);
        REQUIRE(msg);
        if (i % 3 == 0) {
            CHECK(*msg == message{"a", std::to_string(i)});
        } else if (i % 3 == 1) {
            CHECK(*msg == message{"b", "", std::string(static_cast<std::size_t>(i % 50), 'x')});
        } else {
            CHECK(*msg == message{"ab"});
        }
    }
    for (int i = 0; i < total; ++i) {
        if (i % 3 != 1) {
            auto msg = alpha.receive(5s);
            REQUIRE(msg);
            CHECK(msg->front() == (i % 3 == 0 ? "a" : "ab"));
        }
    }
    CHECK_FALSE(alpha.receive(100ms));
}

TEST_CASE("a raw forwarder that waits for room loses nothing, and its watch sees each frame once") {
    const bool watching = GENERATE(false, true);
    CAPTURE(watching);
    // Lossless on both sides: a publisher that finds no room says so (send returns false) and
    // tries again later.
    const zpat::options lossless{.send_high_water_mark = 20,
                                 .send_timeout = std::chrono::milliseconds{0},
                                 .block_when_full = true};
    raw_forwarder fwd(lossless, lossless);
    zpat::subscriber slow(fwd.xpub.endpoints()[0], {""}, {.receive_high_water_mark = 20});
    REQUIRE(eventually([&] {
        fwd.forward();
        return fwd.pub.subscriptions_seen() == 1;
    }));
    zpat::relay link(fwd.xsub, fwd.xpub);
    // 16 MB: more than the socket buffers between the forwarder and the subscriber hold (the
    // sender's at most 4 MB here; the receiver's grows only as far as it reads), so the relay
    // must come to hold. Some messages are written from the relay's thread, the rest, torn
    // messages first, by the I/O thread.
    constexpr int total = 1000;
    const std::string body(std::size_t{16} * 1024, 'z');
    int published = 0;
    int watched = 0;
    bool held = false;
    const zpat::frame_watch watch = [&](std::size_t, std::string_view, bool last) {
        watched += last ? 1 : 0;
    };
    REQUIRE(eventually(
        [&] {  // nobody reads yet: the relay comes to hold
            while (published < total && fwd.pub.send(message{std::to_string(published), body})) {
                ++published;
            }
            held = link.step(watching ? watch : zpat::frame_watch{}).what == zpat::relayed::held;
            return held;
        },
        20s));
    std::vector<std::string> got;
    REQUIRE(eventually(
        [&] {
            while (published < total && fwd.pub.send(message{std::to_string(published), body})) {
                ++published;
            }
            link.step(watching ? watch : zpat::frame_watch{});
            message msg;
            while (slow.receive(msg, 0ms)) {
                REQUIRE(msg.size() == 2);
                CHECK(msg[1] == body);
                got.push_back(msg[0]);
            }
            return got.size() == total;
        },
        30s));
    for (int i = 0; i < total; ++i) {
        CHECK(got[static_cast<std::size_t>(i)] == std::to_string(i));
    }
    CHECK(fwd.xpub.dropped() == 0);
    CHECK(watched == (watching ? total : 0));
}

TEST_CASE("a raw forwarder loses only the message over its subscribers' limit") {
    raw_forwarder fwd({.max_message_size = 100});
    zpat::subscriber sub(fwd.xpub.endpoints()[0], {""});
    REQUIRE(eventually([&] {
        fwd.forward();
        return fwd.pub.subscriptions_seen() == 1;
    }));
    zpat::relay link(fwd.xsub, fwd.xpub);
    REQUIRE(fwd.pub.send(message{"before"}));
    REQUIRE(fwd.pub.send(message{std::string(200, 'x')}));
    REQUIRE(fwd.pub.send(message{"after"}));
    std::uint64_t moved = 0;
    int refused = 0;
    REQUIRE(eventually([&] {
        try {
            moved += link.step().messages;
        } catch (const zpat::error& e) {
            CHECK_THAT(e.what(), Catch::Contains("exceeds max_message_size of 100"));
            ++refused;
        }
        return moved == 2;
    }));
    CHECK(refused == 1);
    for (const char* expected : {"before", "after"}) {
        auto msg = sub.receive(5s);
        REQUIRE(msg);
        CHECK(*msg == message{expected});
    }
}

TEST_CASE("a raw xsubscriber takes a message of megabytes that arrives over many reads") {
    zpat::publisher pub("@raw+tcp://127.0.0.1:*");
    zpat::xsubscriber xsub(">" + pub.endpoints()[0]);
    xsub.subscribe("big");
    REQUIRE(pub.wait_for_subscriptions(1, 5s));
    std::string body(std::size_t{8} << 20, '\0');
    for (std::size_t i = 0; i < body.size(); ++i) {
        body[i] = static_cast<char>('a' + i % 26);
    }
    REQUIRE(pub.publish("big", body));
    REQUIRE(pub.publish("big", "after"));
    message got;
    REQUIRE(xsub.receive(got, 10s));
    REQUIRE(got.size() == 2);
    CHECK(got[0] == "big");
    CHECK(got[1] == body);
    REQUIRE(xsub.receive(got, 5s));
    CHECK(got == message{"big", "after"});
}

TEST_CASE("a raw xsubscriber takes a stream whole and in order, however its reads split it") {
    zpat::publisher pub("@raw+tcp://127.0.0.1:*", {.send_timeout = 5s, .block_when_full = true});
    zpat::xsubscriber xsub(">" + pub.endpoints()[0]);
    xsub.subscribe("s");
    REQUIRE(pub.wait_for_subscriptions(1, 5s));
    xsubscriber_takes_every_split(pub, xsub);
}

TEST_CASE("a raw xsubscriber drops what waits of a topic it unsubscribes from") {
    zpat::publisher pub("@raw+tcp://127.0.0.1:*");
    zpat::xsubscriber xsub(">" + pub.endpoints()[0]);
    xsub.subscribe("a");
    xsub.subscribe("b");
    REQUIRE(pub.wait_for_subscriptions(2, 5s));
    constexpr int total = 200;
    for (int i = 0; i < total; ++i) {
        REQUIRE(pub.publish(i % 2 == 0 ? "a" : "b", std::to_string(i)));
    }
    // All of them arrived and wait, as encoded batches, before the unsubscribe.
    REQUIRE(eventually([&] {
        const auto seen = xsub.open_connections();
        return seen.size() == 1 && seen[0].traffic && seen[0].traffic->messages_in == total;
    }));
    message got;
    REQUIRE(xsub.receive(got, 5s));
    CHECK(got == message{"a", "0"});
    xsub.unsubscribe("a");
    for (int i = 1; i < total; i += 2) {
        REQUIRE(xsub.receive(got, 5s));
        CHECK(got == message{"b", std::to_string(i)});
    }
    CHECK_FALSE(xsub.receive(got, 100ms));
}

TEST_CASE("an xpublisher on raw TCP hands over subscriptions, balanced when subscribers go") {
    zpat::xpublisher xpub("@raw+tcp://127.0.0.1:*");
    message got;
    {
        zpat::subscriber sub(xpub.endpoints()[0], {"weather."});
        REQUIRE(xpub.receive_subscription(got, 5s));
        CHECK(got == message{"\x01weather."});
        sub.subscribe("news.");
        REQUIRE(xpub.receive_subscription(got, 5s));
        CHECK(got == message{"\x01news."});
        // It filters for its subscribers as a publisher does.
        REQUIRE(xpub.send(message{"sports", "no"}));
        REQUIRE(xpub.send(message{"news.today", "yes"}));
        auto first = sub.receive(5s);
        REQUIRE(first);
        CHECK(*first == message{"news.today", "yes"});
        sub.unsubscribe("news.");
        REQUIRE(xpub.receive_subscription(got, 5s));
        CHECK(got == message{std::string(1, '\0') + "news."});
    }
    // The subscriber went holding "weather.": its unsubscribe comes from the xpublisher.
    REQUIRE(xpub.receive_subscription(got, 5s));
    CHECK(got == message{std::string(1, '\0') + "weather."});
    CHECK_FALSE(xpub.receive_subscription(got, 100ms));
}

TEST_CASE("a raw xpublisher passes on no unsubscribe the peer never held, and drops garbage") {
    zpat::xpublisher xpub("@raw+tcp://127.0.0.1:*");
    plain_socket peer(xpub.endpoints()[0]);
    const auto command = [](char verb, const std::string& prefix) {
        return u32(1) + u32(static_cast<std::uint32_t>(prefix.size() + 1)) + verb + prefix;
    };
    peer.send_all(subscriber_greeting + command('\0', "never") + command('\1', "mine"));
    message got;
    REQUIRE(xpub.receive_subscription(got, 5s));
    CHECK(got == message{"\x01mine"});
    zpat::subscriber honest(xpub.endpoints()[0], {"mine"});
    REQUIRE(xpub.receive_subscription(got, 5s));
    CHECK(got == message{"\x01mine"});
    peer.send_all("not a command");  // garbage: dropped, and its subscription ends with it
    REQUIRE(xpub.receive_subscription(got, 5s));
    CHECK(got == message{std::string(1, '\0') + "mine"});
    CHECK(peer.closed_by_peer());
    // The well-behaved subscriber lost nothing.
    REQUIRE(xpub.send(message{"mine", "still here"}));
    const auto delivered = honest.receive(5s);
    REQUIRE(delivered);
    CHECK(*delivered == message{"mine", "still here"});
}

TEST_CASE("the router refuses the raw backend by name, xpublisher and xsubscriber raw+udp") {
    const std::string transport = GENERATE(as<std::string>{}, "raw+tcp", "raw+udp");
    CAPTURE(transport);
    const std::string ep = any_endpoint(transport);
    CHECK_THROWS_AS(zpat::router("@" + ep), zpat::unsupported_error);
    CHECK_THROWS_WITH(zpat::router("@" + ep), Catch::Contains("router on the raw backend"));
    if (transport == "raw+udp") {
        const std::string upstream = ">" + transport + "://127.0.0.1:9";
        CHECK_THROWS_AS(zpat::xsubscriber(upstream), zpat::unsupported_error);
        CHECK_THROWS_WITH(zpat::xsubscriber(upstream), Catch::Contains("xsubscriber on raw+udp"));
        CHECK_THROWS_AS(zpat::xpublisher("@" + ep), zpat::unsupported_error);
        CHECK_THROWS_WITH(zpat::xpublisher("@" + ep), Catch::Contains("xpublisher on raw+udp"));
    }
}

TEST_CASE("a raw xsubscriber passes subscriptions upstream and refuses other messages") {
    zpat::publisher pub("@raw+tcp://127.0.0.1:*");
    zpat::xsubscriber xsub(pub.endpoints()[0]);
    xsub.send(
        message{"\x01"
                "a"});
    xsub.send(
        message{"\x01"
                "a"});  // counted: one unsubscribe leaves it subscribed
    REQUIRE(pub.wait_for_subscriptions(1, 5s));
    xsub.send(message{std::string(1, '\0') + "a"});
    message got;
    REQUIRE(eventually([&] {
        pub.publish("a", "yes");
        return xsub.receive(got, 50ms);
    }));
    CHECK(got == message{"a", "yes"});
    xsub.unsubscribe("a");
    CHECK_THROWS_WITH(xsub.send(message{"data"}),
                      Catch::Contains("raw xsubscriber sends only subscription messages"));
    CHECK_THROWS_AS(xsub.send(message{"\x01"
                                      "a",
                                      "second frame"}),
                    zpat::unsupported_error);
    // Unsubscribed: nothing more of "a" is delivered.
    pub.publish("a", "no");
    CHECK_FALSE(xsub.receive(got, 200ms));
}

TEST_CASE("check_offered tells, binding nothing, what making the role would refuse") {
    using zpat::role_kind;
    // A port that is not free would fail a bind: check_offered does not bind.
    zpat::puller occupant("@raw+tcp://127.0.0.1:*");
    const std::string taken = occupant.endpoints()[0];
    CHECK_NOTHROW(zpat::check_offered(role_kind::puller, taken));
    CHECK_NOTHROW(zpat::check_offered(role_kind::xpublisher, taken));
    CHECK_THROWS_WITH(zpat::check_offered(role_kind::router, taken),
                      Catch::Contains("router on the raw backend"));
    CHECK_THROWS_WITH(zpat::check_offered(role_kind::service_worker, taken),
                      Catch::Contains("Majordomo"));
    CHECK_THROWS_WITH(zpat::check_offered(role_kind::pusher, "raw+udp://127.0.0.1:9"),
                      Catch::Contains("pusher on raw+udp"));
    CHECK_THROWS_WITH(zpat::check_offered(role_kind::xpublisher, "raw+udp://127.0.0.1:9"),
                      Catch::Contains("xpublisher on raw+udp"));
    CHECK_NOTHROW(zpat::check_offered(role_kind::router, "tcp://127.0.0.1:9"));
    CHECK_NOTHROW(zpat::check_offered(role_kind::service_worker, "ipc:///nowhere/at/all"));
    CHECK_THROWS_AS(zpat::check_offered(role_kind::router, "bogus"), zpat::endpoint_error);
}
