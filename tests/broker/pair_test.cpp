// The Binary Star pair (the Guide's chapter 4): the state machine's rules, two brokers that
// settle into an active and a passive one and fail over, a broker alone, a peer that says
// nonsense or claims to be active too. The Guide's own client and a Guide-style server as the
// peer run against zpat-broker in tests/interop/guide_bstar.py.

#include <catch2/catch.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "binary_star.hpp"
#include "broker_support.hpp"
#include "support/temporary_directory.hpp"
#include "support/test_support.hpp"
#include "zpat/core/error.hpp"
#include "zpat/pubsub.hpp"
#include "zpat/reqrep.hpp"

using namespace zpat;
using namespace zpat::testing;
using broker::detail::pair_machine;
using broker::detail::pair_state;

namespace {

constexpr milliseconds pair_heartbeat{100};

// A broker with a service device in a pair: its state published at `own`, its peer's read from
// `peer`.
broker::config paired(bool primary, const std::string& own, const std::string& peer) {
    broker::config cfg = service_only();
    cfg.pair = broker::pair_config{
        .primary = primary, .endpoint = own, .peer = peer, .heartbeat = pair_heartbeat};
    return cfg;
}

std::string state_of(const running_broker& b) {
    const stats s = b.counters();
    return s.pair ? s.pair->state : "";
}

bool eventually_in(const running_broker& b, const std::string& state) {
    return eventually_counted(b, [&](const stats& s) { return s.pair && s.pair->state == state; });
}

}  // namespace

TEST_CASE("the pair state machine follows the Guide's rules", "[broker][pair]") {
    using clock = pair_machine::clock;
    const clock::time_point t0 = clock::now();
    const clock::time_point soon = t0 + pair_heartbeat;       // the peer not yet presumed gone
    const clock::time_point later = t0 + 3 * pair_heartbeat;  // past two heartbeats
    pair_machine::change changed{};

    SECTION("a primary hearing the backup becomes active, a backup hearing it passive") {
        pair_machine primary(true, pair_heartbeat, t0);
        pair_machine backup(false, pair_heartbeat, t0);
        CHECK(primary.on_peer(pair_state::backup, t0).to == pair_state::active);
        CHECK(backup.on_peer(pair_state::active, t0).to == pair_state::passive);
        CHECK(primary.on_client_request(soon, changed));
        CHECK_FALSE(backup.on_client_request(soon, changed));
    }
    SECTION("a primary alone serves only once no backup has been heard for two heartbeats") {
        pair_machine primary(true, pair_heartbeat, t0);
        CHECK_FALSE(primary.on_client_request(soon, changed));
        CHECK(primary.state() == pair_state::primary);
        CHECK(primary.on_client_request(later, changed));
        CHECK(changed.to == pair_state::active);
    }
    SECTION("a backup alone never serves") {
        pair_machine backup(false, pair_heartbeat, t0);
        CHECK_FALSE(backup.on_client_request(later + 100 * pair_heartbeat, changed));
        CHECK(backup.state() == pair_state::backup);
    }
    SECTION("a passive broker fails over on a client request once the active is silent") {
        pair_machine backup(false, pair_heartbeat, t0);
        backup.on_peer(pair_state::active, t0);
        CHECK_FALSE(backup.on_client_request(soon, changed));
        CHECK(backup.state() == pair_state::passive);
        CHECK(backup.on_client_request(later, changed));
        CHECK(changed.from == pair_state::passive);
        CHECK(changed.to == pair_state::active);
    }
    SECTION("silence alone does not fail a passive broker over: a client request must ask") {
        pair_machine backup(false, pair_heartbeat, t0);
        backup.on_peer(pair_state::active, t0);
        CHECK(backup.on_peer(pair_state::active, later).to == pair_state::passive);
        CHECK_FALSE(backup.on_client_request(later + pair_heartbeat, changed));
    }
    SECTION("a passive broker hearing its peer restart becomes active") {
        for (const pair_state restarted : {pair_state::primary, pair_state::backup}) {
            pair_machine passive(restarted == pair_state::backup, pair_heartbeat, t0);
            passive.on_peer(pair_state::active, t0);
            REQUIRE(passive.state() == pair_state::passive);
            CHECK(passive.on_peer(restarted, soon).to == pair_state::active);
        }
    }
    SECTION("of two actives the backup gives way, of two passives the primary takes over") {
        pair_machine primary(true, pair_heartbeat, t0);
        pair_machine backup(false, pair_heartbeat, t0);
        primary.on_peer(pair_state::backup, t0);
        backup.on_client_request(later, changed);  // still a backup: refused, stays so
        backup.on_peer(pair_state::active, t0);
        REQUIRE(backup.on_client_request(later, changed));  // failed over: two actives
        const auto backup_sees = backup.on_peer(pair_state::active, later);
        CHECK(backup_sees.split_brain);
        CHECK(backup_sees.to == pair_state::passive);
        const auto primary_sees = primary.on_peer(pair_state::active, later);
        CHECK(primary_sees.split_brain);
        CHECK(primary_sees.to == pair_state::active);

        pair_machine passive_primary(true, pair_heartbeat, t0);
        passive_primary.on_peer(pair_state::active, t0);
        const auto both_passive = passive_primary.on_peer(pair_state::passive, soon);
        CHECK(both_passive.split_brain);
        CHECK(both_passive.to == pair_state::active);
    }
}

TEST_CASE("a pair state message is one frame holding 1 to 4", "[broker][pair]") {
    using broker::detail::parse_pair_state;
    CHECK(parse_pair_state(message{"1"}) == pair_state::primary);
    CHECK(parse_pair_state(message{"4"}) == pair_state::passive);
    for (const message& bad :
         {message{"0"}, message{"5"}, message{""}, message{"33"}, message{"3", "3"}, message{}}) {
        CHECK_FALSE(parse_pair_state(bad));
    }
}

TEST_CASE("a pair settles into one active broker and fails over when it stops", "[broker][pair]") {
    const temporary_directory dir;
    const std::string primary_state = "ipc://" + (dir.path() / "primary").string();
    const std::string backup_state = "ipc://" + (dir.path() / "backup").string();
    std::optional<running_broker> primary(std::in_place, paired(true, primary_state, backup_state));
    running_broker backup(paired(false, backup_state, primary_state));
    REQUIRE(eventually_in(*primary, "active"));
    REQUIRE(eventually_in(backup, "passive"));
    CHECK(backup.counters().pair->peer_state == "active");

    // A worker on each broker: the passive one keeps its workers registered, ready.
    std::optional<serving_worker> on_primary(std::in_place, primary->service(), "echo",
                                             [](message m) {
                                                 return message{"primary", m[0]};
                                             });
    serving_worker on_backup(backup.service(), "echo", [](message m) {
        return message{"backup", m[0]};
    });
    REQUIRE(eventually_served(*primary, "echo", 1));
    REQUIRE(eventually_served(backup, "echo", 1));

    service_client client(primary->service() + "," + backup.service(),
                          {.request_timeout = 300ms, .retries = 20});
    const auto before = client.request("echo", {"one"});
    REQUIRE(before);
    CHECK(*before == message{"primary", "one"});

    on_primary.reset();
    primary.reset();  // the active broker is gone
    const auto after = client.request("echo", {"two"});
    REQUIRE(after);
    CHECK(*after == message{"backup", "two"});
    const stats s = backup.counters();
    CHECK(s.pair->state == "active");
    CHECK(s.pair->became_active == 1);
    CHECK(s.pair->requests_admitted >= 1);
    CHECK(s.pair->split_brains == 0);
}

TEST_CASE("a worker given both brokers of a pair registers with each and serves the active one",
          "[broker][pair]") {
    const temporary_directory dir;
    const std::string primary_state = "ipc://" + (dir.path() / "primary").string();
    const std::string backup_state = "ipc://" + (dir.path() / "backup").string();
    std::optional<running_broker> primary(std::in_place, paired(true, primary_state, backup_state));
    running_broker backup(paired(false, backup_state, primary_state));
    const std::string both = primary->service() + "," + backup.service();
    serving_worker worker(both, "echo", echo);
    REQUIRE(eventually_served(*primary, "echo", 1));
    REQUIRE(eventually_served(backup, "echo", 1));
    CHECK(worker.worker().endpoints().size() == 2);
    // The backup must have heard the primary active: a backup that never has does not take
    // over (the Guide's rule: it cannot tell a dead primary from one not yet started).
    REQUIRE(eventually_in(*primary, "active"));
    REQUIRE(eventually_in(backup, "passive"));

    service_client client(both, {.request_timeout = 300ms, .retries = 20});
    REQUIRE(client.request("echo", {"one"}) == message{"one"});
    CHECK(eventually_counted(*primary,
                             [](const stats& s) { return find_service(s, "echo")->replies == 1; }));

    primary.reset();
    const auto two = client.request("echo", {"two"});
    REQUIRE(two);
    CHECK(*two == message{"two"});
    CHECK(eventually_counted(backup,
                             [](const stats& s) { return find_service(s, "echo")->replies == 1; }));
    CHECK(backup.counters().pair->state == "active");
}

TEST_CASE("the backup of a pair alone drops client requests on every request-reply device",
          "[broker][pair]") {
    const temporary_directory dir;
    broker::config cfg = paired(false, "ipc://" + (dir.path() / "backup").string(),
                                "ipc://" + (dir.path() / "nobody").string());
    cfg.queue =
        broker::queue_config{.frontend = "tcp://127.0.0.1:*", .backend = "tcp://127.0.0.1:*"};
    cfg.pirate = broker::pirate_config{.frontend = "tcp://127.0.0.1:*",
                                       .backend = "tcp://127.0.0.1:*",
                                       .heartbeat_interval = 100ms};
    running_broker b(cfg);
    serving_worker worker(b.service(), "echo", echo);
    replier queue_worker(">" + b.get().queue_backend().at(0));
    REQUIRE(eventually_served(b, "echo", 1));

    // A requester that times out discards its request, so each waits long enough for the
    // request to reach the broker on a loaded machine; each refusal is counted before the next.
    service_client client(b.service(), {.request_timeout = 1s, .retries = 0});
    CHECK_FALSE(client.request("echo", {"hello"}));
    CHECK(eventually_counted(b, [](const stats& s) { return s.pair->requests_refused >= 1; }));
    requester via_queue(b.get().queue_frontend().at(0), {.request_timeout = 1s, .retries = 0});
    CHECK_FALSE(via_queue.request({"hello"}));
    CHECK(eventually_counted(b, [](const stats& s) { return s.pair->requests_refused >= 2; }));
    requester via_pirate(b.get().pirate_frontend().at(0), {.request_timeout = 1s, .retries = 0});
    CHECK_FALSE(via_pirate.request({"hello"}));
    CHECK(eventually_counted(b, [](const stats& s) { return s.pair->requests_refused >= 3; }));

    const stats s = b.counters();
    CHECK(s.pair->state == "backup");
    CHECK(s.pair->peer_state == "unknown");
    CHECK(s.pair->peer_silent_ms == -1);
    CHECK(s.pair->requests_admitted == 0);
    CHECK(s.queue->requests == 0);
    CHECK(s.pirate->passed.requests == 0);
}

TEST_CASE("the primary of a pair alone serves once no backup has been heard for two heartbeats",
          "[broker][pair]") {
    const temporary_directory dir;
    running_broker b(paired(true, "ipc://" + (dir.path() / "primary").string(),
                            "ipc://" + (dir.path() / "nobody").string()));
    serving_worker worker(b.service(), "echo", echo);
    service_client client(b.service(), {.request_timeout = 300ms, .retries = 10});
    const auto reply = client.request("echo", {"hello"});
    REQUIRE(reply);
    CHECK(*reply == message{"hello"});
    CHECK(state_of(b) == "active");
    CHECK(b.counters().pair->became_active == 1);
}

TEST_CASE("a broker of a pair ignores what is not a state and settles two actives",
          "[broker][pair]") {
    const temporary_directory dir;
    const std::string peer_endpoint = "ipc://" + (dir.path() / "peer").string();
    publisher peer(peer_endpoint);  // stands in for the other broker
    running_broker b(paired(false, "ipc://" + (dir.path() / "backup").string(), peer_endpoint));
    serving_worker worker(b.service(), "echo", echo);

    // Nonsense until three are counted (the first may go before the subscription arrives).
    REQUIRE(eventually(
        [&] {
            peer.send(message{"9"});
            std::this_thread::sleep_for(5ms);
            return b.counters().pair->malformed_states >= 3;
        },
        5s));
    CHECK(state_of(b) == "backup");

    peer.send(message{"3"});  // "I am active"
    REQUIRE(eventually_in(b, "passive"));
    // The peer falls silent; a client request after two heartbeats makes this broker active.
    service_client client(b.service(), {.request_timeout = 300ms, .retries = 10});
    REQUIRE(client.request("echo", {"hello"}));
    CHECK(state_of(b) == "active");

    peer.send(message{"3"});  // the peer was active all along: a split brain
    REQUIRE(eventually_in(b, "passive"));
    const stats s = b.counters();
    CHECK(s.pair->split_brains == 1);
    CHECK(s.pair->became_active == 1);
}

TEST_CASE("a pair does not take the streamer", "[broker][pair]") {
    const temporary_directory dir;
    broker::config cfg = paired(true, "ipc://" + (dir.path() / "primary").string(),
                                "ipc://" + (dir.path() / "backup").string());
    cfg.streamer =
        broker::streamer_config{.frontend = "tcp://127.0.0.1:*", .backend = "tcp://127.0.0.1:*"};
    CHECK_THROWS_AS(broker::broker(cfg), unsupported_error);
}

TEST_CASE(
    "pub-sub through a pair: the backup's cache is warm, a subscriber with failover moves "
    "to it and hears the last values, then what comes next",
    "[broker][pair]") {
    const temporary_directory dir;
    const std::string primary_state = "ipc://" + (dir.path() / "primary").string();
    const std::string backup_state = "ipc://" + (dir.path() / "backup").string();
    const auto with_forwarder = [](broker::config cfg) {
        cfg.forwarder = broker::forwarder_config{.frontend = "tcp://127.0.0.1:*",
                                                 .backend = "tcp://127.0.0.1:*",
                                                 .last_value_cache = true};
        return cfg;
    };
    std::optional<running_broker> primary(
        std::in_place, with_forwarder(paired(true, primary_state, backup_state)));
    running_broker backup(with_forwarder(paired(false, backup_state, primary_state)));
    REQUIRE(eventually_in(*primary, "active"));
    REQUIRE(eventually_in(backup, "passive"));

    // The publisher reaches both frontends; the subscriber listens at one backend at a time.
    publisher pub(">" + primary->forwarder_frontend() + ",>" + backup.forwarder_frontend());
    subscriber sub(primary->forwarder_backend() + "," + backup.forwarder_backend(), {"price."},
                   {.failover = true, .failover_timeout = 300ms});
    // Each forwarder's frontend subscribes to everything, for its cache.
    REQUIRE(pub.wait_for_subscriptions(2, 5s));
    const auto cached_topics = [](const running_broker& b) {
        return b.counters().forwarder->cached_topics;
    };
    // The two forwarders' subscriptions reach the publisher at their own pace (the backup's may
    // come later on a loaded machine): both values go out until each broker has cached them and
    // the subscriber, at the primary, has heard them. The passive backup takes them without a
    // subscriber of its own.
    std::set<std::string> heard;
    std::optional<message> got;
    REQUIRE(eventually([&] {
        pub.publish("price.gold", "1900");
        pub.publish("price.silver", "24");
        while ((got = sub.receive(20ms))) {
            heard.insert(got->at(0) + "=" + got->at(1));
        }
        return heard.size() == 2 && cached_topics(*primary) == 2 && cached_topics(backup) == 2;
    }));
    while (sub.receive(100ms)) {  // what the primary still had on its way
    }

    primary.reset();
    // At the backup, a late joiner: the cache answers its subscription with the last values.
    std::set<std::string> last_values;
    while (last_values.size() < 2 && (got = sub.receive(5s))) {
        last_values.insert(got->at(0) + "=" + got->at(1));
    }
    CHECK(last_values == std::set<std::string>{"price.gold=1900", "price.silver=24"});
    pub.publish("price.gold", "1910");
    got = sub.receive(5s);
    REQUIRE(got);
    CHECK(*got == message{"price.gold", "1910"});
    // No client request came: the backup is still passive, and its forwarder served anyway.
    CHECK(backup.counters().pair->state == "passive");
}
