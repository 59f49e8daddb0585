// What a misbehaving ZeroMQ peer can do to a zpat role, and what it cannot.

#include <catch2/catch.hpp>
#include <zmq.hpp>

#include "support/captured_stderr.hpp"
#include "support/plain_socket.hpp"
#include "support/subscriber_checks.hpp"
#include "support/test_support.hpp"
#include "support/zmtp_bytes.hpp"
#include "zmq/zmq_socket.hpp"
#include "zpat/zpat.hpp"

using namespace zpat::testing;
using zpat::message;

TEST_CASE("an oversized message from a peer is dropped and counted and the next one arrives") {
    zmq::context_t context;
    zpat::puller puller("@tcp://127.0.0.1:*", {.max_message_size = 1000});
    zmq::socket_t push(context, zmq::socket_type::push);
    push.connect(puller.endpoints()[0]);
    // Two frames of 600 bytes: each within libzmq's per-frame limit, together over ours.
    const std::string part(600, 'x');
    push.send(zmq::buffer(part), zmq::send_flags::sndmore);
    push.send(zmq::buffer(part));
    push.send(zmq::str_buffer("fine"));
    auto got = puller.receive(5s);
    REQUIRE(got);
    CHECK(*got == message{"fine"});
    CHECK(puller.oversized_dropped() == 1);
}

TEST_CASE("a peer sending one frame over the limit is cut off and other peers lose nothing") {
    zmq::context_t context;
    zpat::puller puller("@tcp://127.0.0.1:*", {.max_message_size = 1000});
    zmq::socket_t hostile(context, zmq::socket_type::push);
    zmq::socket_t honest(context, zmq::socket_type::push);
    hostile.connect(puller.endpoints()[0]);
    honest.connect(puller.endpoints()[0]);
    const std::string big(5000, 'x');
    hostile.send(zmq::buffer(big));
    for (int i = 0; i < 10; ++i) {
        honest.send(zmq::buffer(std::to_string(i)));
    }
    for (int i = 0; i < 10; ++i) {
        auto got = puller.receive(5s);
        REQUIRE(got);
        CHECK(got->front() == std::to_string(i));
    }
    CHECK_FALSE(puller.receive(50ms));
}

TEST_CASE("ZeroMQ roles count their connections and log a handshake timeout and a malformed peer") {
    captured_stderr log;
    zpat::puller puller("@tcp://127.0.0.1:*", {.handshake_timeout = 200ms});
    zpat::testing::plain_socket silent(puller.endpoints()[0]);
    zpat::testing::plain_socket garbled(puller.endpoints()[0]);
    garbled.send_all(zmtp_null_greeting() + zmtp_hello_command());
    {
        zpat::pusher honest(puller.endpoints()[0]);
        for (int i = 0; i < 20; ++i) {
            REQUIRE(honest.send(message{std::to_string(i)}));
            auto got = puller.receive(5s);
            REQUIRE(got);
            CHECK(*got == message{std::to_string(i)});
        }
    }
    CHECK(silent.closed_by_peer());
    CHECK(garbled.closed_by_peer());
    CHECK(eventually([&] {
        const auto counts = puller.connections();
        return counts.opened == 3 && counts.closed == 3 && counts.handshake_timeouts == 1 &&
               counts.malformed == 1;
    }));
    CHECK(puller.connections().refused == 0);
    CHECK(eventually([&] {
        const std::string text = log.text();
        return text.find("no handshake within the handshake timeout") != std::string::npos &&
               text.find("an unexpected ZMTP command") != std::string::npos;
    }));
}

TEST_CASE(
    "a request without an envelope delimiter is discarded while well-formed clients are served") {
    zmq::context_t context;
    zpat::replier replier("@tcp://127.0.0.1:*");
    zmq::socket_t dealer(context, zmq::socket_type::dealer);
    dealer.connect(replier.endpoints()[0]);
    dealer.send(zmq::str_buffer("no delimiter"));

    zmq::socket_t req(context, zmq::socket_type::req);
    req.set(zmq::sockopt::rcvtimeo, 5000);
    req.connect(replier.endpoints()[0]);
    req.send(zmq::str_buffer("proper"));

    auto request = replier.receive(5s);
    REQUIRE(request);
    CHECK(*request == message{"proper"});
    replier.reply(message{"ok"});
    zmq::message_t reply;
    REQUIRE(req.recv(reply));
    CHECK(reply.to_string() == "ok");
    // The two peers' messages travel on different connections, in no defined order: another
    // receive sees the malformed one if it has not been seen yet, and discards it.
    CHECK_FALSE(replier.receive(200ms));
    CHECK(replier.malformed_requests() == 1);
}

TEST_CASE("a DEALER that sends the empty delimiter is answered like a REQ") {
    zmq::context_t context;
    zpat::replier replier("@tcp://127.0.0.1:*");
    zmq::socket_t dealer(context, zmq::socket_type::dealer);
    dealer.set(zmq::sockopt::rcvtimeo, 5000);
    dealer.connect(replier.endpoints()[0]);
    dealer.send(zmq::str_buffer(""), zmq::send_flags::sndmore);
    dealer.send(zmq::str_buffer("async hello"));
    auto request = replier.receive(5s);
    REQUIRE(request);
    replier.reply(message{"async world"});
    zmq::message_t delimiter;
    zmq::message_t body;
    REQUIRE(dealer.recv(delimiter));
    REQUIRE(dealer.recv(body));
    CHECK(delimiter.empty());
    CHECK(body.to_string() == "async world");
}

TEST_CASE("a failed libzmq call reaches callers as a zpat error naming the call and the reason") {
    using zpat::detail::throw_zmq_failure;
    CHECK_THROWS_AS(throw_zmq_failure("send", EFSM), zpat::state_error);
    CHECK_THROWS_AS(throw_zmq_failure("send", EHOSTUNREACH), zpat::connection_error);
    CHECK_THROWS_AS(throw_zmq_failure("receive", ETERM), zpat::error);
    CHECK_THROWS_WITH(throw_zmq_failure("receive", ENOTSOCK),
                      Catch::Matchers::Contains("ZeroMQ receive failed: ") &&
                          Catch::Matchers::Contains(zmq_strerror(ENOTSOCK)));
}

TEST_CASE(
    "ZeroMQ publishers cut off a subscriber past max_subscriptions or "
    "max_subscription_prefix, and an honest one loses nothing") {
    // Both publisher kinds, since the forwarder's backend is an xpublisher.
    const bool extended = GENERATE(false, true);
    CAPTURE(extended);
    captured_stderr log;
    const zpat::options limits{.max_subscriptions = 3, .max_subscription_prefix = 16};
    std::unique_ptr<zpat::publisher> plain;
    std::unique_ptr<zpat::xpublisher> ext;
    if (extended) {
        ext = std::make_unique<zpat::xpublisher>("@tcp://127.0.0.1:*", limits);
    } else {
        plain = std::make_unique<zpat::publisher>("@tcp://127.0.0.1:*", limits);
    }
    const std::string at = extended ? ext->endpoints()[0] : plain->endpoints()[0];
    // A ZeroMQ publisher reads subscriptions when its user does: a publisher while it waits for
    // them (or sends), an xpublisher when asked for them.
    const auto read_subscriptions = [&] {
        if (extended) {
            message sub;
            while (ext->receive_subscription(sub, 0ms)) {
            }
        } else {
            (void)plain->wait_for_subscriptions(1'000'000, 0ms);
        }
    };
    const auto over_limits = [&] {
        read_subscriptions();
        return extended ? ext->connections().over_limits : plain->connections().over_limits;
    };
    const auto logged = [&](const std::string& words) {
        return eventually([&] { return log.text().find(words) != std::string::npos; });
    };

    zpat::subscriber honest(at, {"news"});
    {
        zpat::subscriber hoarder(at, {"a", "b", "c", "d"});  // one more than allowed
        REQUIRE(eventually([&] { return over_limits() >= 1; }));
        CHECK(logged("past options::max_subscriptions"));
    }
    const std::uint64_t before = over_limits();  // the hoarder may have come back meanwhile
    zpat::subscriber longwinded(at, {std::string(17, 'x')});
    REQUIRE(eventually([&] { return over_limits() > before; }));
    CHECK(logged("longer than options::max_subscription_prefix"));

    const auto publish = [&](const message& msg) {
        return extended ? ext->send(msg) : plain->send(msg);
    };
    honest_subscriber_gets_all(honest, publish, read_subscriptions);
}

TEST_CASE("a bare libzmq subscriber flooding subscriptions is disconnected by a ZeroMQ publisher") {
    captured_stderr log;
    zpat::xpublisher pub("@tcp://127.0.0.1:*", {.max_subscriptions = 100});
    zmq::context_t context;
    zmq::socket_t flood(context, zmq::socket_type::sub);
    flood.set(zmq::sockopt::reconnect_ivl, -1);  // once cut off, it stays away
    zmq::socket_t events(context, zmq::socket_type::pair);
    zmq_socket_monitor(flood.handle(), "inproc://flood-events", ZMQ_EVENT_DISCONNECTED);
    events.connect("inproc://flood-events");
    flood.connect(pub.endpoints()[0]);
    for (int i = 0; i < 1000; ++i) {
        flood.set(zmq::sockopt::subscribe, "t" + std::to_string(i));
    }
    std::uint64_t subscribes = 0;
    std::uint64_t unsubscribes = 0;
    message sub;
    REQUIRE(eventually([&] {
        while (pub.receive_subscription(sub, 0ms)) {
            (sub[0][0] == '\x01' ? subscribes : unsubscribes) += 1;
        }
        return pub.connections().over_limits == 1 && unsubscribes == subscribes;
    }));
    // The flooder's own socket saw its connection end; the publisher holds nothing of it.
    zmq::message_t event;
    events.set(zmq::sockopt::rcvtimeo, 5000);
    CHECK(events.recv(event).has_value());
    CHECK(subscribes > 100);
    CHECK(subscribes <= 1000);
}
