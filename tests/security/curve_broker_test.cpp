// The broker with CURVE on every endpoint: clients, workers, publishers and subscribers with an
// allowed key are served; a worker or subscriber without one gets nothing.

#include <atomic>
#include <catch2/catch.hpp>

#include "broker/broker_support.hpp"
#include "support/test_support.hpp"
#include "zpat/zpat.hpp"

using namespace zpat;
using namespace zpat::testing;

namespace {

struct broker_keys {
    curve_keys broker = make_curve_keys();
    curve_keys member = make_curve_keys();
    curve_keys stranger = make_curve_keys();

    options as(const curve_keys& keys, options opts = {}) const {
        opts.curve = curve_options{.keys = keys, .server_key = broker.public_key};
        return opts;
    }
};

broker::config secured(const broker_keys& keys) {
    broker::config cfg = patient_service_only();
    cfg.forwarder =
        broker::forwarder_config{.frontend = "tcp://127.0.0.1:*", .backend = "tcp://127.0.0.1:*"};
    cfg.stats_endpoint = "tcp://127.0.0.1:*";
    cfg.curve = curve_options{.keys = keys.broker, .allowed_clients = {keys.member.public_key}};
    return cfg;
}

}  // namespace

TEST_CASE(
    "a CURVE broker serves allowed clients and workers and no forged worker takes a "
    "request",
    "[broker][curve]") {
    const broker_keys keys;
    running_broker b(secured(keys));
    std::atomic<int> forged_served{0};
    serving_worker forger(
        b.service(), "echo",
        [&](const message&) {
            ++forged_served;
            return message{"forged"};
        },
        keys.as(keys.stranger, patient_heartbeats()));
    serving_worker real(b.service(), "echo", echo, keys.as(keys.member, patient_heartbeats()));
    REQUIRE(eventually_served(b, "echo", 1));

    service_client client(b.service(), keys.as(keys.member, {.request_timeout = 2s, .retries = 0}));
    for (int i = 0; i < 20; ++i) {
        const auto reply = client.request("echo", {std::to_string(i)});
        REQUIRE(reply);
        CHECK(*reply == message{std::to_string(i)});
    }
    CHECK(forged_served == 0);
    CHECK(workers(b.counters(), "echo") == 1);

    // A client without an allowed key is not heard at all, and is told so.
    service_client stranger(b.service(),
                            keys.as(keys.stranger, {.request_timeout = 5s, .retries = 0}));
    CHECK_THROWS_WITH(stranger.request("echo", {"let me in"}),
                      Catch::Contains("the server refused this client's CURVE key"));

    // Nor is the stats endpoint open to it; to a member it answers.
    requester member_stats(">" + b.stats_endpoint(),
                           keys.as(keys.member, {.request_timeout = 2s, .retries = 0}));
    const auto counters = member_stats.request(message{"json"});
    REQUIRE(counters);
    CHECK(counters->front().find("\"service\"") != std::string::npos);
    requester stranger_stats(">" + b.stats_endpoint(),
                             keys.as(keys.stranger, {.request_timeout = 5s, .retries = 0}));
    CHECK_THROWS_AS(stranger_stats.request(message{"json"}), security_error);
    CHECK(stranger_stats.connections().refused >= 1);
}

TEST_CASE(
    "a CURVE forwarder carries an allowed publisher to an allowed subscriber and nothing "
    "to a stranger",
    "[broker][curve]") {
    const broker_keys keys;
    running_broker b(secured(keys));
    publisher pub(">" + b.forwarder_frontend(), keys.as(keys.member));
    subscriber member(">" + b.forwarder_backend(), {"t"}, keys.as(keys.member));
    subscriber stranger(">" + b.forwarder_backend(), {"t"}, keys.as(keys.stranger));
    subscriber plain(">" + b.forwarder_backend(), {"t"});
    REQUIRE(pub.wait_for_subscriptions(1, 5s));
    REQUIRE(pub.publish("t", "news"));
    const auto got = member.receive(5s);
    REQUIRE(got);
    CHECK(*got == message{"t", "news"});
    CHECK_FALSE(stranger.receive(300ms));
    CHECK_FALSE(plain.receive(100ms));
    CHECK(eventually([&] { return stranger.connections().refused >= 1; }, 2s));
}

TEST_CASE(
    "with service permissions a key the CURVE allow-list lets in still cannot serve or "
    "call a service it is not allowed",
    "[broker][curve]") {
    const broker_keys keys;
    broker::config cfg = secured(keys);
    cfg.curve->allowed_clients.push_back(keys.stranger.public_key);  // in, but no permission
    cfg.service->workers_allowed = {{"echo", {keys.member.public_key}}};
    cfg.service->callers_allowed = {{"echo", {keys.member.public_key}}};
    running_broker b(cfg);
    std::atomic<int> forged_served{0};
    serving_worker forger(
        b.service(), "echo",
        [&](const message&) {
            ++forged_served;
            return message{"forged"};
        },
        keys.as(keys.stranger, patient_heartbeats()));
    REQUIRE(eventually_counted(b, [](const stats& s) { return s.service->workers_refused >= 1; }));
    serving_worker real(b.service(), "echo", echo, keys.as(keys.member, patient_heartbeats()));
    REQUIRE(eventually_served(b, "echo", 1));

    service_client client(b.service(), keys.as(keys.member, {.request_timeout = 2s, .retries = 0}));
    for (int i = 0; i < 10; ++i) {
        const auto reply = client.request("echo", {std::to_string(i)});
        REQUIRE(reply);
        CHECK(*reply == message{std::to_string(i)});
    }
    CHECK(forged_served == 0);

    service_client intruder(b.service(),
                            keys.as(keys.stranger, {.request_timeout = 300ms, .retries = 0}));
    CHECK_FALSE(intruder.request("echo", {"let me in"}));
    CHECK(eventually_counted(b, [](const stats& s) { return s.service->calls_refused == 1; }));
}
