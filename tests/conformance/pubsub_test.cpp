// Publish-subscribe's promises, on every transport.

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "support/test_support.hpp"
#include "zpat/core/error.hpp"
#include "zpat/pubsub.hpp"

using namespace zpat::testing;
using zpat::message;

namespace {

// Receives topics until `last` arrives (or a receive times out).
std::vector<std::string> topics_until(zpat::subscriber& sub, const std::string& last) {
    std::vector<std::string> topics;
    while (auto msg = sub.receive(5s)) {
        topics.push_back(msg->front());
        if (topics.back() == last) {
            break;
        }
    }
    return topics;
}

}  // namespace

TEST_CASE("a subscriber receives exactly the topics its prefixes match") {
    const std::string transport =
        GENERATE(as<std::string>{}, "tcp", "ipc", "inproc", "raw+tcp", "raw+udp");
    CAPTURE(transport);
    zpat::publisher pub("@" + any_endpoint(transport));
    zpat::subscriber sub(pub.endpoints()[0], {"weather.", "end"});
    REQUIRE(pub.wait_for_subscriptions(2, 5s));

    for (const char* topic : {"weather.nyc", "sports.nyc", "weather", "weather.sf", "end"}) {
        REQUIRE(pub.publish(topic, "payload"));
    }
    // One connection delivers in order, so the absence of the unmatched topics is proven by
    // the end marker arriving right after the matched ones.
    CHECK(topics_until(sub, "end") == std::vector<std::string>{"weather.nyc", "weather.sf", "end"});
}

TEST_CASE("the empty prefix subscribes to everything, including empty topics") {
    const std::string transport =
        GENERATE(as<std::string>{}, "tcp", "ipc", "inproc", "raw+tcp", "raw+udp");
    CAPTURE(transport);
    zpat::publisher pub("@" + any_endpoint(transport));
    zpat::subscriber sub(pub.endpoints()[0], {""});
    REQUIRE(pub.wait_for_subscriptions(1, 5s));
    pub.send(message{"", "no topic"});
    pub.publish("anything", "x");
    pub.publish("end", "x");
    CHECK(topics_until(sub, "end") == std::vector<std::string>{"", "anything", "end"});
}

TEST_CASE("after unsubscribe a topic no longer arrives, and the other subscriptions stay") {
    const std::string transport =
        GENERATE(as<std::string>{}, "tcp", "ipc", "inproc", "raw+tcp", "raw+udp");
    CAPTURE(transport);
    zpat::publisher pub("@" + any_endpoint(transport));
    zpat::subscriber sub(pub.endpoints()[0], {"a", "b"});
    REQUIRE(pub.wait_for_subscriptions(2, 5s));
    pub.publish("a", "1");
    pub.publish("b", "1");
    CHECK(topics_until(sub, "b") == std::vector<std::string>{"a", "b"});

    sub.unsubscribe("a");
    pub.publish("a", "2");
    pub.publish("b", "2");
    CHECK(topics_until(sub, "b") == std::vector<std::string>{"b"});
}

TEST_CASE("an unsubscribe also holds back what already arrived for that topic") {
    const std::string transport =
        GENERATE(as<std::string>{}, "tcp", "ipc", "inproc", "raw+tcp", "raw+udp");
    CAPTURE(transport);
    zpat::publisher pub("@" + any_endpoint(transport));
    zpat::subscriber sub(pub.endpoints()[0], {"a", "b"});
    REQUIRE(pub.wait_for_subscriptions(2, 5s));
    for (int i = 0; i < 5; ++i) {
        REQUIRE(pub.publish("a", std::to_string(i)));
    }
    REQUIRE(pub.publish("b", "end"));
    // The first "a" is in: on one connection the rest came with it or are close behind, and
    // whether they wait at the subscriber or are still on their way, none may come out now.
    auto first = sub.receive(5s);
    REQUIRE(first);
    CHECK(first->front() == "a");
    sub.unsubscribe("a");
    CHECK(topics_until(sub, "b") == std::vector<std::string>{"b"});
}

TEST_CASE("every subscriber gets its own copy") {
    const std::string transport =
        GENERATE(as<std::string>{}, "tcp", "ipc", "inproc", "raw+tcp", "raw+udp");
    CAPTURE(transport);
    zpat::publisher pub("@" + any_endpoint(transport));
    zpat::subscriber first(pub.endpoints()[0], {"news"});
    zpat::subscriber second(pub.endpoints()[0], {"news"});
    REQUIRE(pub.wait_for_subscriptions(2, 5s));
    pub.publish("news", "hello");
    for (zpat::subscriber* s : {&first, &second}) {
        auto msg = s->receive(5s);
        REQUIRE(msg);
        CHECK(*msg == message{"news", "hello"});
    }
}

TEST_CASE("wait_for_subscriptions times out when nobody subscribes") {
    zpat::publisher pub("@" + any_endpoint("tcp"));
    const auto start = std::chrono::steady_clock::now();
    CHECK_FALSE(pub.wait_for_subscriptions(1, 100ms));
    CHECK(std::chrono::steady_clock::now() - start < 5s);
    CHECK(pub.subscriptions_seen() == 0);
}

TEST_CASE("with block_when_full a publisher waits for a slow subscriber and drops nothing") {
    const std::string transport = GENERATE(as<std::string>{}, "tcp", "ipc", "raw+tcp");
    CAPTURE(transport);
    zpat::publisher pub(
        "@" + any_endpoint(transport),
        {.send_high_water_mark = 10, .send_timeout = 200ms, .block_when_full = true});
    zpat::subscriber slow(pub.endpoints()[0], {""}, {.receive_high_water_mark = 10});
    REQUIRE(pub.wait_for_subscriptions(1, 5s));
    // Until the queues and the socket buffers are full and a publish waits in vain.
    const std::string payload(64 * 1024, 'x');
    constexpr int bound = 5000;
    int accepted = 0;
    while (accepted < bound && pub.publish(std::to_string(accepted), payload)) {
        ++accepted;
    }
    CHECK(accepted < bound);
    CHECK(pub.dropped() == 0);
    for (int i = 0; i < accepted; ++i) {
        auto msg = slow.receive(5s);
        REQUIRE(msg);
        CHECK(msg->front() == std::to_string(i));
    }
    REQUIRE(pub.publish("after", ""));
    auto last = slow.receive(5s);
    REQUIRE(last);
    CHECK(last->front() == "after");
}

TEST_CASE("a publisher never waits for a slow subscriber: it drops at the high-water mark") {
    const std::string transport = GENERATE(as<std::string>{}, "tcp", "raw+tcp");
    CAPTURE(transport);
    zpat::publisher pub("@" + any_endpoint(transport),
                        {.send_high_water_mark = 10, .send_timeout = 0ms});
    zpat::subscriber slow(pub.endpoints()[0], {""}, {.receive_high_water_mark = 10});
    REQUIRE(pub.wait_for_subscriptions(1, 5s));
    const std::string payload(1024, 'x');
    constexpr int sent = 20000;  // 20 MB: far beyond the queues and the socket buffers
    for (int i = 0; i < sent; ++i) {
        REQUIRE(pub.publish("t", payload));
    }
    // The first message may take long to arrive where libzmq is slow (sanitizers); the rest
    // follow at once.
    int received = slow.receive(5s) ? 1 : 0;
    while (received > 0 && slow.receive(200ms)) {
        ++received;
    }
    CHECK(received > 0);
    CHECK(received < sent);
}

namespace {

// Publishes `payload` on "t" from `pub` until `sub` receives it (the subscriber moves on, and
// subscribes anew, only while it waits in receive). Returns whether it did within 10 s.
bool heard_from(zpat::publisher& pub, zpat::subscriber& sub, const std::string& payload) {
    return eventually(
        [&] {
            pub.publish("t", payload);
            while (auto msg = sub.receive(20ms)) {
                if (msg->at(1) == payload) {
                    return true;
                }
            }
            return false;
        },
        10s);
}

constexpr zpat::options failing_over{.failover = true, .failover_timeout = 300ms};

}  // namespace

TEST_CASE("a subscriber with failover hears one publisher at a time and moves on when it goes") {
    const std::string transport = GENERATE(as<std::string>{}, "tcp", "ipc");
    CAPTURE(transport);
    // A place the first can be bound at again.
    const reserved_port port;
    const std::string first_at = transport == "tcp" ? port.endpoint("tcp") : absent_endpoint();
    auto first = std::make_unique<zpat::publisher>("@" + first_at);
    auto second = std::make_unique<zpat::publisher>("@" + any_endpoint(transport));
    zpat::subscriber sub(first_at + "," + second->endpoints()[0], {"t"}, failing_over);
    CHECK(sub.endpoints() == std::vector<std::string>{first_at, second->endpoints()[0]});

    REQUIRE(first->wait_for_subscriptions(1, 5s));
    REQUIRE(heard_from(*first, sub, "first"));
    // A subscriber of both would have reached the second as soon as the first.
    CHECK_FALSE(second->wait_for_subscriptions(1, 200ms));

    first.reset();  // the connection closes: on to the second, subscribed there
    REQUIRE(heard_from(*second, sub, "second"));

    // And back, once the first is there again and the second goes.
    first = std::make_unique<zpat::publisher>("@" + first_at);
    second.reset();
    REQUIRE(heard_from(*first, sub, "first again"));
}

TEST_CASE("a subscriber with failover moves on from an endpoint where nobody answers") {
    const std::string transport = GENERATE(as<std::string>{}, "tcp", "ipc");
    CAPTURE(transport);
    const reserved_port refused;
    const std::string nobody = transport == "tcp" ? refused.endpoint("tcp") : absent_endpoint();
    zpat::publisher pub("@" + any_endpoint(transport));
    zpat::subscriber sub(nobody + "," + pub.endpoints()[0], {"t"}, failing_over);
    REQUIRE(heard_from(pub, sub, "there"));
}

TEST_CASE("failover is refused where a subscriber cannot watch its connections, by name") {
    const auto refusal = [](const std::string& endpoints, const zpat::options& opts) {
        try {
            zpat::subscriber sub(endpoints, {}, opts);
        } catch (const zpat::error& e) {
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    CHECK_THAT(refusal("raw+tcp://127.0.0.1:1,raw+tcp://127.0.0.1:2", failing_over),
               Catch::Contains("raw+tcp://127.0.0.1:1 is not a ZeroMQ tcp:// or ipc://"));
    CHECK_THAT(refusal("inproc://a,inproc://b", failing_over),
               Catch::Contains("inproc://a is not a ZeroMQ tcp:// or ipc://"));
    CHECK_THAT(refusal("@tcp://127.0.0.1:*", failing_over),
               Catch::Contains("the subscriber binds tcp://127.0.0.1:*"));
    CHECK_THAT(refusal("tcp://127.0.0.1:1", {.failover = true, .failover_timeout = 0ms}),
               Catch::Contains("options::failover_timeout is 0 ms"));
}
