// The forwarder, the streamer and the stats endpoint of the broker.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "broker_support.hpp"
#include "support/plain_socket.hpp"
#include "support/test_support.hpp"
#include "support/zmtp_bytes.hpp"
#include "zpat/core/error.hpp"
#include "zpat/pipeline.hpp"
#include "zpat/pubsub.hpp"
#include "zpat/reqrep.hpp"

using namespace zpat;
using namespace zpat::testing;

TEST_CASE("the forwarder passes subscriptions upstream and matching messages downstream",
          "[broker][forwarder]") {
    running_broker b(forwarder_on("tcp://127.0.0.1:*", "tcp://127.0.0.1:*"));
    publisher pub(at(b.forwarder_frontend()));
    subscriber sub(b.forwarder_backend(), {"weather."});
    // The publisher hears the subscription through the broker: filtering happens at its side.
    REQUIRE(pub.wait_for_subscriptions(1, 5s));

    pub.publish("sports.nyc", "ignored");
    pub.publish("weather.nyc", "21C");
    auto msg = sub.receive(5s);
    REQUIRE(msg);
    CHECK(*msg == message{"weather.nyc", "21C"});
    REQUIRE(eventually_counted(b, [](const stats& s) {
        const auto& t = s.forwarder->topics;
        return s.forwarder->counts.messages_out >= 1 && t.size() == 1 &&
               t[0].prefix == "weather." && t[0].subscriptions == 1 && t[0].messages == 1;
    }));
    // The publisher filtered sports.nyc before the network: the broker never saw it.
    CHECK(b.counters().forwarder->counts.messages_in == 1);
}

TEST_CASE("the forwarder counts each message once for every prefix it matches",
          "[broker][forwarder]") {
    running_broker b(forwarder_on("tcp://127.0.0.1:*", "tcp://127.0.0.1:*"));
    publisher pub(at(b.forwarder_frontend()));
    subscriber nested(b.forwarder_backend(), {"a", "ab", "x"});
    subscriber broad(b.forwarder_backend(), {"a"});
    REQUIRE(pub.wait_for_subscriptions(4, 5s));
    pub.publish("abc", "1");  // a, ab
    pub.publish("ax", "2");   // a
    pub.publish("b", "3");    // nothing (filtered by the publisher)
    const auto counted = [](const stats& s, std::string_view prefix) -> std::uint64_t {
        for (const auto& t : s.forwarder->topics) {
            if (t.prefix == prefix) {
                return t.messages;
            }
        }
        return 99;
    };
    REQUIRE(eventually_counted(b, [&](const stats& s) {
        return counted(s, "a") == 2 && counted(s, "ab") == 1 && counted(s, "x") == 0;
    }));

    // 200 more prefixes (within the subscriber's high-water mark: libzmq drops subscriptions past
    // it), then all dropped: the table gives back everything they took.
    for (int i = 0; i < 200; ++i) {
        nested.subscribe("p" + std::to_string(i));
    }
    REQUIRE(
        eventually_counted(b, [](const stats& s) { return s.forwarder->topics.size() == 203; }));
    for (int i = 0; i < 200; ++i) {
        nested.unsubscribe("p" + std::to_string(i));
    }
    const bool returned =
        eventually_counted(b, [](const stats& s) { return s.forwarder->topics.size() == 3; });
    INFO(b.counters().forwarder->topics.size());
    REQUIRE(returned);
}

TEST_CASE("an unsubscribe travels upstream too, and the prefix leaves the table",
          "[broker][forwarder]") {
    running_broker b(forwarder_on("tcp://127.0.0.1:*", "tcp://127.0.0.1:*"));
    publisher pub(at(b.forwarder_frontend()));
    subscriber sub(b.forwarder_backend(), {"a", "b"});
    REQUIRE(pub.wait_for_subscriptions(2, 5s));
    REQUIRE(eventually_counted(b, [](const stats& s) { return s.forwarder->topics.size() == 2; }));
    sub.unsubscribe("a");
    REQUIRE(eventually_counted(b, [](const stats& s) {
        return s.forwarder->topics.size() == 1 && s.forwarder->topics[0].prefix == "b";
    }));
}

TEST_CASE("with the last-value cache a late subscriber gets each topic's latest message at once",
          "[broker][forwarder][lvc]") {
    running_broker b(forwarder_on("tcp://127.0.0.1:*", "tcp://127.0.0.1:*", true));
    publisher pub(at(b.forwarder_frontend()));
    subscriber early(b.forwarder_backend(), {""});
    REQUIRE(pub.wait_for_subscriptions(1, 5s));  // the cache's own subscription to everything
    // and the early subscriber's, at the broker: only then does it get what is published.
    REQUIRE(eventually_counted(b, [](const stats& s) {
        return s.forwarder->topics.size() == 1 && s.forwarder->topics[0].subscriptions == 1;
    }));
    for (const auto* value : {"1", "2", "3"}) {
        pub.publish("price.a", value);
    }
    pub.publish("price.b", "9");
    pub.publish("other", "x");
    for (int i = 0; i < 5; ++i) {
        REQUIRE(early.receive(5s));  // all five went through
    }

    subscriber late(b.forwarder_backend(), {"price."});
    std::set<std::string> got;
    for (int i = 0; i < 2; ++i) {
        auto msg = late.receive(5s);
        REQUIRE(msg);
        got.insert(msg->at(0) + "=" + msg->at(1));
    }
    CHECK(got == std::set<std::string>{"price.a=3", "price.b=9"});
    CHECK(b.counters().forwarder->cached_topics == 3);
}

TEST_CASE("the forwarder bridges raw+tcp publishers to ZeroMQ subscribers and the reverse",
          "[broker][forwarder][raw]") {
    SECTION("raw+tcp in, ZeroMQ out") {
        running_broker b(forwarder_on("raw+tcp://127.0.0.1:*", "tcp://127.0.0.1:*"));
        publisher pub(at(b.forwarder_frontend()));
        subscriber sub(b.forwarder_backend(), {"t"});
        // The subscriber's prefix reaches the raw publisher through the broker's raw
        // xsubscriber, so the publisher filters before the network.
        REQUIRE(pub.wait_for_subscriptions(1, 5s));
        REQUIRE(eventually([&] {
            pub.publish("t", "hello");
            return sub.receive(50ms).has_value();
        }));
    }
    SECTION("ZeroMQ in, raw+tcp out") {
        running_broker b(forwarder_on("tcp://127.0.0.1:*", "raw+tcp://127.0.0.1:*"));
        publisher pub(at(b.forwarder_frontend()));
        subscriber sub(b.forwarder_backend(), {"t"});
        REQUIRE(eventually([&] {
            pub.publish("t", "hello");
            return sub.receive(50ms).has_value();
        }));
    }
}

TEST_CASE("the last-value cache keeps topics published before any subscriber existed",
          "[broker][forwarder][lvc]") {
    running_broker b(forwarder_on("tcp://127.0.0.1:*", "tcp://127.0.0.1:*", true));
    publisher pub(at(b.forwarder_frontend()));
    REQUIRE(pub.wait_for_subscriptions(1, 5s));  // the cache's own: everything
    pub.publish("price.a", "1");
    pub.publish("price.a", "2");
    pub.publish("other", "x");
    REQUIRE(eventually_counted(b, [](const stats& s) { return s.forwarder->cached_topics == 2; }));

    subscriber late(b.forwarder_backend(), {"price."});
    const auto msg = late.receive(5s);
    REQUIRE(msg);
    CHECK(*msg == message{"price.a", "2"});
    CHECK_FALSE(late.receive(100ms));  // "other" is not for it
}

TEST_CASE("the last-value cache holds at most max_cached_bytes, and counts what it could not keep",
          "[broker][forwarder][lvc]") {
    broker::config cfg = forwarder_on("tcp://127.0.0.1:*", "tcp://127.0.0.1:*", true);
    cfg.forwarder->max_cached_bytes = 100;
    running_broker b(cfg);
    publisher pub(at(b.forwarder_frontend()));
    REQUIRE(pub.wait_for_subscriptions(1, 5s));
    pub.publish("a", std::string(10, 'a'));  // 1 + 1 + 10: 12 bytes held
    pub.publish("b", std::string(50, 'b'));  // 1 + 1 + 50: 64
    pub.publish("c", std::string(60, 'c'));  // would be 126: not kept, nor its topic
    pub.publish("a", std::string(80, 'a'));  // would be 134: "a" goes, value and topic
    REQUIRE(
        eventually_counted(b, [](const stats& s) { return s.forwarder->counts.messages_in == 4; }));
    const stats s = b.counters();
    CHECK(s.forwarder->cached_topics == 1);
    CHECK(s.forwarder->cached_bytes == 52);
    CHECK(s.forwarder->uncached == 2);
    subscriber late(b.forwarder_backend(), {""});
    const auto msg = late.receive(5s);
    REQUIRE(msg);
    CHECK(*msg == message{"b", std::string(50, 'b')});
    CHECK_FALSE(late.receive(100ms));
}

TEST_CASE("the last-value cache serves raw+tcp publishers too, and refuses a raw+udp backend",
          "[broker][forwarder][lvc]") {
    CHECK_THROWS_WITH(
        broker::broker(forwarder_on("tcp://127.0.0.1:*", "raw+udp://127.0.0.1:*", true)),
        Catch::Contains("last-value cache") && Catch::Contains("raw+udp"));

    running_broker b(forwarder_on("raw+tcp://127.0.0.1:*", "tcp://127.0.0.1:*", true));
    publisher pub(at(b.forwarder_frontend()));
    REQUIRE(pub.wait_for_subscriptions(1, 5s));  // the broker takes everything upstream
    pub.publish("price.a", "1");
    pub.publish("price.a", "2");
    REQUIRE(eventually_counted(b, [](const stats& s) {
        return s.forwarder->counts.messages_in == 2 && s.forwarder->cached_topics == 1;
    }));
    subscriber late(b.forwarder_backend(), {"price."});
    const auto msg = late.receive(5s);
    REQUIRE(msg);
    CHECK(*msg == message{"price.a", "2"});
}

TEST_CASE("the last-value cache answers raw+tcp subscribers, counted per prefix",
          "[broker][forwarder][lvc]") {
    running_broker b(forwarder_on("tcp://127.0.0.1:*", "raw+tcp://127.0.0.1:*", true));
    publisher pub(at(b.forwarder_frontend()));
    REQUIRE(pub.wait_for_subscriptions(1, 5s));  // the cache takes everything upstream
    pub.publish("price.a", "1");
    pub.publish("price.a", "2");
    pub.publish("other", "x");
    REQUIRE(eventually_counted(b, [](const stats& s) { return s.forwarder->cached_topics == 2; }));
    {
        subscriber late(b.forwarder_backend(), {"price."});
        const auto msg = late.receive(5s);
        REQUIRE(msg);
        CHECK(*msg == message{"price.a", "2"});
        CHECK_FALSE(late.receive(100ms));  // "other" is not for it
        REQUIRE(eventually_counted(b, [](const stats& s) {
            return s.forwarder->topics.size() == 1 && s.forwarder->topics[0].prefix == "price." &&
                   s.forwarder->topics[0].subscriptions == 1;
        }));
    }
    // The subscriber went: its subscription is given back.
    REQUIRE(eventually_counted(b, [](const stats& s) { return s.forwarder->topics.empty(); }));
}

TEST_CASE("a slow raw+tcp subscriber loses messages, counted, while a fast one loses none",
          "[broker][forwarder][robustness]") {
    broker::config cfg = forwarder_on("tcp://127.0.0.1:*", "raw+tcp://127.0.0.1:*");
    cfg.forwarder->high_water_mark = 100;
    running_broker b(cfg);
    publisher pub(at(b.forwarder_frontend()), {.send_high_water_mark = 0, .block_when_full = true});
    subscriber slow(b.forwarder_backend(), {""}, {.receive_high_water_mark = 10});
    subscriber fast(b.forwarder_backend(), {""}, {.receive_high_water_mark = 0});
    REQUIRE(pub.wait_for_subscriptions(1, 5s));  // the broker's subscription to everything
    REQUIRE(eventually([&] {
        pub.publish("probe", "");
        return slow.receive(10ms).has_value() && fast.receive(10ms).has_value();
    }));
    while (fast.receive(100ms)) {
    }

    // Batches smaller than the high-water mark, each read by the fast subscriber before the
    // next: it never falls behind, while the slow one (which never reads) fills its socket
    // buffers and then the broker's queue for it. Publish until the broker reports a drop.
    const std::string payload(std::size_t{8} * 1024, 'x');
    constexpr int batch = 25;
    constexpr int max_batches = 400;  // 80 MB: far more than any socket buffer holds
    int published = 0;
    int received = 0;
    for (int b_i = 0; b_i < max_batches && b.counters().forwarder->counts.dropped_full == 0;
         ++b_i) {
        for (int i = 0; i < batch; ++i) {
            pub.publish("data", payload);
        }
        published += batch;
        for (int i = 0; i < batch && fast.receive(2s); ++i) {
            ++received;
        }
    }
    CHECK(b.counters().forwarder->counts.dropped_full > 0);
    CHECK(received == published);
}

TEST_CASE("the streamer hands what producers push to the workers, round-robin",
          "[broker][streamer]") {
    broker::config cfg;
    cfg.streamer =
        broker::streamer_config{.frontend = "tcp://127.0.0.1:*", .backend = "tcp://127.0.0.1:*"};
    running_broker b(cfg);
    puller one(at(b.streamer_backend()));
    puller two(at(b.streamer_backend()));
    pusher producer(at(b.streamer_frontend()));
    // Let both workers connect before work flows, so round-robin has two to choose from.
    REQUIRE(eventually([&] {
        producer.send({"warm-up"});
        return one.receive(20ms).has_value() && two.receive(20ms).has_value();
    }));
    while (one.receive(50ms) || two.receive(50ms)) {
    }
    for (int i = 0; i < 10; ++i) {
        producer.send({std::to_string(i)});
    }
    int first = 0;
    int second = 0;
    while (first + second < 10) {
        if (one.receive(10ms)) {
            ++first;
        }
        if (two.receive(10ms)) {
            ++second;
        }
    }
    CHECK(first == 5);
    CHECK(second == 5);
}

TEST_CASE("the streamer bridges raw+tcp producers to ZeroMQ workers and the reverse",
          "[broker][streamer][raw]") {
    const auto [front, back] = GENERATE(std::pair<std::string, std::string>{"raw+tcp", "tcp"},
                                        std::pair<std::string, std::string>{"tcp", "raw+tcp"});
    CAPTURE(front, back);
    broker::config cfg;
    cfg.streamer = broker::streamer_config{.frontend = front + "://127.0.0.1:*",
                                           .backend = back + "://127.0.0.1:*"};
    running_broker b(cfg);
    puller worker(at(b.streamer_backend()));
    pusher producer(at(b.streamer_frontend()));
    // Nothing is lost and the order holds, whichever side is raw: a pusher waits, never drops.
    for (int i = 0; i < 100; ++i) {
        REQUIRE(producer.send({std::to_string(i)}));
    }
    for (int i = 0; i < 100; ++i) {
        auto task = worker.receive(5s);
        REQUIRE(task);
        CHECK(task->front() == std::to_string(i));
    }
    CHECK(eventually([&] {
        const auto counts = *b.counters().streamer;
        return counts.messages_in == 100 && counts.messages_out == 100;
    }));
}

TEST_CASE("the stats endpoint answers with JSON or the Prometheus text format", "[broker][stats]") {
    broker::config cfg = service_only();
    // Not a heartbeat test: a worker that a loaded sanitizer run holds up for 300 ms must not
    // expire between the two answers.
    cfg.service->heartbeat_interval = 1s;
    cfg.stats_endpoint = "tcp://127.0.0.1:*";
    running_broker b(cfg);
    serving_worker worker(b.service(), "echo", echo);
    REQUIRE(eventually_served(b, "echo", 1));

    requester ask(at(b.stats_endpoint()), {.request_timeout = 2s, .retries = 0});
    auto json_text = ask.request({"json"});
    REQUIRE(json_text);
    const auto parsed = nlohmann::json::parse(json_text->front());
    CHECK(parsed["service"]["services"][0]["name"] == "echo");
    CHECK(parsed["service"]["services"][0]["workers"] == 1);

    auto prometheus = ask.request({"prometheus"});
    REQUIRE(prometheus);
    CHECK_THAT(prometheus->front(),
               Catch::Contains("# TYPE zpat_broker_messages_total counter") &&
                   Catch::Contains("zpat_broker_service_workers{service=\"echo\"} 1"));
}

TEST_CASE("the broker stops within a second, with idle clients and workers connected", "[broker]") {
    broker::config cfg = service_only();
    cfg.forwarder =
        broker::forwarder_config{.frontend = "tcp://127.0.0.1:*", .backend = "tcp://127.0.0.1:*"};
    cfg.streamer =
        broker::streamer_config{.frontend = "tcp://127.0.0.1:*", .backend = "tcp://127.0.0.1:*"};
    broker::broker b(cfg);
    b.start();
    // Every kind of peer connected, and each connection shown to be up by traffic through it.
    service_worker worker(">" + b.service_endpoint().at(0), "echo", fast_heartbeats());
    service_client client(">" + b.service_endpoint().at(0), {.request_timeout = 2s, .retries = 0});
    std::thread serving([&] {
        if (auto request = worker.receive(5s)) {
            worker.reply(*request);
        }
    });
    CHECK(client.request("echo", {"up"}) == message{"up"});
    serving.join();

    publisher pub(">" + b.forwarder_frontend().at(0));
    subscriber sub(b.forwarder_backend().at(0), {""});
    REQUIRE(pub.wait_for_subscriptions(1, 5s));
    std::optional<message> update;
    REQUIRE(eventually([&] {
        pub.publish("probe", "");
        update = sub.receive(10ms);
        return update.has_value();
    }));
    pusher push(">" + b.streamer_frontend().at(0));
    puller pull(">" + b.streamer_backend().at(0));
    REQUIRE(push.send(message{"task"}));
    CHECK(pull.receive(5s) == message{"task"});

    const auto start = std::chrono::steady_clock::now();
    b.stop();
    b.wait();
    CHECK(std::chrono::steady_clock::now() - start < 1s);
}

TEST_CASE("the broker counts each side's connections and names a malformed peer in its metrics",
          "[broker][streamer]") {
    broker::config cfg;
    cfg.streamer =
        broker::streamer_config{.frontend = "tcp://127.0.0.1:*", .backend = "tcp://127.0.0.1:*"};
    running_broker b(cfg);
    pusher push(">" + b.streamer_frontend());
    puller pull(">" + b.streamer_backend());
    REQUIRE(push.send(message{"through"}));
    REQUIRE(pull.receive(5s));
    {
        zpat::testing::plain_socket garbled(b.streamer_frontend());
        garbled.send_all(zpat::testing::zmtp_null_greeting() + zpat::testing::zmtp_hello_command());
        CHECK(garbled.closed_by_peer());
    }
    REQUIRE(eventually_counted(b, [](const stats& s) {
        const auto& front = s.streamer->frontend_connections;
        return front.opened == 2 && front.closed == 1 && front.malformed == 1;
    }));
    CHECK(b.counters().streamer->backend_connections.opened == 1);
    const std::string metrics = broker::to_prometheus(b.counters());
    CHECK_THAT(metrics,
               Catch::Contains("zpat_broker_connections_opened_total{device=\"streamer\","
                               "side=\"frontend\"} 2") &&
                   Catch::Contains("zpat_broker_connections_dropped_total{device="
                                   "\"streamer\",side=\"frontend\",reason=\"malformed\"} 1"));
    const auto json = nlohmann::json::parse(broker::to_json(b.counters()));
    CHECK(json["streamer"]["traffic"]["connections"]["frontend"]["malformed"] == 1);
}

namespace {

// Every counter with a value no other counter has, so that a value found in the Prometheus text
// can only have come from its own counter.
stats numbered_stats() {
    std::uint64_t next = 1000;
    const auto traffic_numbered = [&] {
        broker::traffic t{};
        for (auto* field : {&t.messages_in, &t.bytes_in, &t.messages_out, &t.bytes_out,
                            &t.dropped_full, &t.dropped_oversized, &t.dropped_malformed}) {
            *field = next++;
        }
        for (auto* c : {&t.frontend_connections, &t.backend_connections}) {
            *c = {next++, next++, next++, next++, next++, next++, next++, next++};
        }
        return t;
    };
    stats s;
    s.forwarder = broker::forwarder_stats{
        traffic_numbered(), {{"t", next++, next++}}, next++, next++, next++, next++};
    s.streamer = traffic_numbered();
    broker::service_broker_stats service;
    service.counts = traffic_numbered();
    service.services = {{"echo", next++, next++, next++, next++, next++, next++, next++}};
    for (auto* field : {&service.workers_expired, &service.disconnects_sent, &service.mmi_requests,
                        &service.requests_expired, &service.requests_rejected,
                        &service.queued_bytes, &service.names_refused, &service.unexpected_dropped,
                        &service.workers_refused, &service.calls_refused}) {
        *field = next++;
    }
    s.service = service;
    s.queue = broker::queue_stats{traffic_numbered(), next++, next++, next++};
    s.pirate = broker::pirate_stats{broker::queue_stats{traffic_numbered(), next++, next++, next++},
                                    next++, next++, next++};
    s.memory = broker::memory_stats{next++, next++, next++};
    return s;
}

// The numbers of a JSON document, walked without recursion.
std::vector<std::uint64_t> json_numbers(const nlohmann::json& document) {
    std::vector<std::uint64_t> numbers;
    std::vector<const nlohmann::json*> pending{&document};
    while (!pending.empty()) {
        const nlohmann::json* node = pending.back();
        pending.pop_back();
        if (node->is_number_unsigned()) {
            numbers.push_back(node->get<std::uint64_t>());
        }
        if (node->is_structured()) {
            for (const auto& child : *node) {
                pending.push_back(&child);
            }
        }
    }
    return numbers;
}

}  // namespace

TEST_CASE("every counter of the broker's JSON is also in its Prometheus text", "[broker]") {
    const stats s = numbered_stats();
    const auto numbers = json_numbers(nlohmann::json::parse(broker::to_json(s)));
    CHECK(numbers.size() == 150);  // every field above: a new one needs a metric too
    const std::string metrics = broker::to_prometheus(s);
    for (const std::uint64_t n : numbers) {
        CAPTURE(n);
        const bool sampled = metrics.find(" " + std::to_string(n) + "\n") != std::string::npos;
        CHECK(sampled);
    }
}

TEST_CASE("the broker says why it is not serving: not started, stopping", "[broker]") {
    broker::broker b(service_only());
    CHECK(b.trouble() == "not started");
    b.start();
    CHECK(b.trouble().empty());
    b.stop();
    CHECK(b.trouble() == "stopping");
}
