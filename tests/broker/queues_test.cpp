// The Guide's request-reply queues in the broker: the queue (ROUTER/DEALER, rrbroker) and the
// pirate queue (ppqueue, with Simple and Paranoid Pirate workers). The Guide's own peers, in
// pyzmq, run against zpat-broker in tests/interop/guide_queues.py.

#include <atomic>
#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "broker_support.hpp"
#include "support/test_support.hpp"
#include "zpat/core/error.hpp"
#include "zpat/dealer.hpp"
#include "zpat/reqrep.hpp"

using namespace zpat;
using namespace zpat::testing;

namespace {

const std::string ready{"\x01"};
const std::string heartbeat{"\x02"};

broker::config pirate_on(milliseconds interval) {
    broker::config cfg;
    cfg.pirate = broker::pirate_config{.frontend = "tcp://127.0.0.1:*",
                                       .backend = "tcp://127.0.0.1:*",
                                       .heartbeat_interval = interval,
                                       .heartbeat_liveness = 3};
    return cfg;
}

// The next message `worker` gets that is not a heartbeat.
std::optional<message> next_request(dealer& worker) {
    for (;;) {
        auto msg = worker.receive(5s);
        if (!msg || !(msg->size() == 1 && msg->front() == heartbeat)) {
            return msg;
        }
    }
}

std::uint64_t pirate_ready(const stats& s) {
    return s.pirate ? s.pirate->workers_ready : 0;
}

}  // namespace

TEST_CASE("the queue carries requesters' requests to repliers in turn and each reply back",
          "[broker][queue]") {
    broker::config cfg;
    cfg.queue =
        broker::queue_config{.frontend = "tcp://127.0.0.1:*", .backend = "tcp://127.0.0.1:*"};
    running_broker b(cfg);
    const std::string front = b.get().queue_frontend().at(0);
    const std::string back = b.get().queue_backend().at(0);

    std::vector<std::unique_ptr<replier>> workers;
    std::vector<std::thread> serving;
    std::atomic<int> served[2] = {0, 0};
    for (int w = 0; w < 2; ++w) {
        workers.push_back(std::make_unique<replier>(">" + back));
    }
    for (int w = 0; w < 2; ++w) {
        serving.emplace_back([&, w] {
            workers[static_cast<std::size_t>(w)]->serve([&, w](message request) {
                ++served[w];
                request.push_back("by " + std::to_string(w));
                return request;
            });
        });
    }
    REQUIRE(eventually([&] {
        const auto all = b.get().connections();
        return std::count_if(all.begin(), all.end(), [](const auto& c) {
                   return c.device == "queue" && c.side == "backend";
               }) == 2;
    }));

    std::vector<std::thread> clients;
    std::atomic<int> answered{0};
    for (int c = 0; c < 4; ++c) {
        clients.emplace_back([&, c] {
            requester client(">" + front, {.request_timeout = 5s, .retries = 0});
            for (int i = 0; i < 25; ++i) {
                const std::string body = std::to_string(c) + "-" + std::to_string(i);
                const auto reply = client.request(message{body});
                if (reply && reply->size() == 2 && (*reply)[0] == body) {
                    ++answered;
                }
            }
        });
    }
    for (auto& t : clients) {
        t.join();
    }
    for (auto& w : workers) {
        w->stop();
    }
    for (auto& t : serving) {
        t.join();
    }
    CHECK(answered == 100);
    CHECK(served[0] >= 25);  // the dealer takes the workers in turn
    CHECK(served[1] >= 25);
    // The queue counts a reply once it has passed it on: the last may reach its client first.
    REQUIRE(
        eventually_counted(b, [](const stats& s) { return s.queue && s.queue->replies >= 100; }));
    const stats s = b.counters();
    CHECK(s.queue->requests == 100);
    CHECK(s.queue->replies == 100);
    CHECK(s.queue->unroutable == 0);
    CHECK(s.queue->counts.messages_in == 200);
}

TEST_CASE(
    "the pirate queue gives each request to the worker idle longest and routes around one "
    "that left",
    "[broker][pirate]") {
    running_broker b(pirate_on(5s));  // no worker expires during the test
    const std::string front = b.get().pirate_frontend().at(0);
    const std::string back = b.get().pirate_backend().at(0);
    // A Paranoid Pirate worker is a DEALER; a Simple Pirate worker a REQ, whose frames come
    // behind an empty delimiter (a dealer sending one stands in for it here).
    dealer paranoid(">" + back);
    std::optional<dealer> simple(std::in_place, ">" + back);
    paranoid.send(message{ready});
    REQUIRE(eventually_counted(b, [](const stats& s) { return pirate_ready(s) == 1; }));
    simple->send(message{"", ready});
    REQUIRE(eventually_counted(b, [](const stats& s) { return pirate_ready(s) == 2; }));

    requester client(">" + front, {.request_timeout = 5s, .retries = 0});
    const auto serve = [&](dealer& worker, const std::string& body, std::size_t frames) {
        auto got = next_request(worker);
        REQUIRE(got);
        CHECK(got->size() == frames);  // [client, "", body], behind "" for a REQ
        CHECK(got->back() == body);
        worker.send(*got);
    };
    std::thread asking([&] {
        for (const char* body : {"one", "two", "three"}) {
            CHECK(client.request(message{body}) == message{body});
        }
    });
    serve(paranoid, "one", 3);  // first READY, first served
    serve(*simple, "two", 4);
    serve(paranoid, "three", 3);
    asking.join();

    // The simple worker leaves while idle, first in line: its request goes to the other.
    simple.reset();
    REQUIRE(eventually([&] {
        const auto all = b.get().connections();
        return std::count_if(all.begin(), all.end(),
                             [](const auto& c) { return c.side == "backend"; }) == 1;
    }));
    std::thread asking_again([&] { CHECK(client.request(message{"four"}) == message{"four"}); });
    serve(paranoid, "four", 3);
    asking_again.join();

    // A worker's frame that is neither a command nor a reply is dropped and counted.
    paranoid.send(message{"garbage"});
    CHECK(eventually_counted(
        b, [](const stats& s) { return s.pirate->passed.counts.dropped_malformed == 1; }));
    const stats s = b.counters();
    CHECK(s.pirate->passed.requests == 4);
    CHECK(s.pirate->passed.replies == 4);
}

TEST_CASE("the pirate queue heartbeats idle Paranoid Pirate workers and forgets a silent one",
          "[broker][pirate]") {
    running_broker b(pirate_on(50ms));
    const std::string back = b.get().pirate_backend().at(0);
    dealer paranoid(">" + back);
    dealer simple(">" + back);
    paranoid.send(message{ready});
    simple.send(message{"", ready});
    const auto beat = paranoid.receive(5s);
    REQUIRE(beat);
    CHECK(*beat == message{heartbeat});
    // Silent past 3 heartbeats: forgotten, counted. The Simple Pirate worker cannot take
    // heartbeats, and so is kept while its connection lasts.
    CHECK(eventually_counted(b, [](const stats& s) {
        return s.pirate->workers_expired == 1 && s.pirate->workers_ready == 1;
    }));
    CHECK(b.counters().pirate->heartbeats_sent >= 1);
    const auto to_simple = simple.receive(200ms);
    CHECK_FALSE(to_simple);  // never sent a heartbeat
}

TEST_CASE("the request-reply queues refuse raw endpoints by name", "[broker][queue]") {
    broker::config queue_cfg;
    queue_cfg.queue =
        broker::queue_config{.frontend = "tcp://127.0.0.1:*", .backend = "raw+tcp://127.0.0.1:*"};
    CHECK_THROWS_WITH(broker::broker(queue_cfg),
                      Catch::Contains("the queue on 'raw+tcp://127.0.0.1:*' is not supported") &&
                          Catch::Contains("ZeroMQ"));
    broker::config pirate_cfg = pirate_on(1s);
    pirate_cfg.pirate->frontend = "raw+tcp://127.0.0.1:*";
    CHECK_THROWS_AS(broker::broker(pirate_cfg), unsupported_error);
}
