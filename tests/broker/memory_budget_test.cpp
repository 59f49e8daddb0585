// The broker's memory budget (config::max_memory): at it, new work is refused instead of taken
// on, counted, and taken again once the memory is given back. The budget is the test process's
// (the broker is embedded), so it is set a fixed headroom above what the process holds when the
// case begins, read the way the broker reads it.

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "broker_support.hpp"
#include "memory_budget.hpp"
#include "support/test_support.hpp"
#include "zpat/majordomo.hpp"
#include "zpat/pubsub.hpp"
#include "zpat/service.hpp"

using namespace zpat;
using namespace zpat::testing;
namespace mdp = zpat::mdp;

namespace {

constexpr std::size_t mib = std::size_t{1024} * 1024;
// Under ThreadSanitizer each message through libzmq costs race reports against its
// uninstrumented pipes (suppressed, but seconds each to make): a smaller run there, and more
// time for the broker thread to get to its expiry tick. What the
// budget reads is then the sanitizer's heap count, which the test process barely moves.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr std::size_t headroom = 2 * mib;
constexpr std::size_t body_size = std::size_t{64} * 1024;
constexpr auto drain_limit = 60s;
constexpr auto step_limit = 60s;  // a first race report's symbolizing can stall a thread for 5 s
#else
constexpr std::size_t headroom = 48 * mib;
constexpr std::size_t body_size = std::size_t{256} * 1024;
constexpr auto drain_limit = 10s;
constexpr auto step_limit = 5s;
#endif

std::size_t held_now() {
    return broker::detail::memory_budget{1}.in_use();
}

}  // namespace

TEST_CASE(
    "at its memory budget the broker refuses new requests instead of growing, and takes "
    "them again once memory is given back",
    "[broker][service][robustness]") {
    // Patient heartbeats: a worker that gave up on a stalled broker would connect again, and
    // each new connection's buffers would count against the budget.
    auto cfg = patient_service_only();
    cfg.service->max_queued_bytes = std::size_t{1} << 30;  // the budget is reached first
    cfg.service->request_expiry = 1s;
    cfg.max_memory = held_now() + headroom;
    running_broker b(cfg);
    serving_worker echoing(b.service(), "echo", echo, patient_heartbeats());
    REQUIRE(eventually_served(b, "echo", 1));

    // Requests for a service nobody serves wait in the queue until the budget stops them. At
    // most 2.5 times the headroom is sent, paced by the broker taking them in.
    raw_peer hoarder(b.service());
    const std::string body(body_size, 'x');
    const std::size_t most = 5 * headroom / 2 / body.size();
    std::size_t sent = 0;
    std::vector<std::chrono::steady_clock::time_point> taken;  // when each was counted in
    for (; sent < most && b.counters().service->requests_rejected == 0; ++sent) {
        hoarder.send({"", mdp::client_header, "hoard", body});
        REQUIRE(eventually_counted(
            b, [&](const stats& s) { return s.service->counts.messages_in >= sent + 1; },
            step_limit));
        taken.push_back(std::chrono::steady_clock::now());
    }
    const stats full = b.counters();
    REQUIRE(full.service->requests_rejected >= 1);
    REQUIRE(full.memory);
    CHECK(full.memory->refusals >= 1);
    CHECK(full.memory->limit == cfg.max_memory);
    // It stopped near the budget: what waits is at most the headroom, what arrived since the
    // last reading of the memory before the refusal (readings are 10 ms apart; the window
    // counted here is three times that, for the scheduler), and what the allocator held free
    // but resident when the case began, which the queue takes before the resident size grows
    // (a CI run queued 48 KB past the first two). A broker that read its memory less often, or
    // not at all, queues more than this.
    const auto window_start = taken.back() - 30ms;
    const auto recent = static_cast<std::size_t>(
        std::count_if(taken.begin(), taken.end(), [&](auto at) { return at >= window_start; }));
    CHECK(full.service->queued_bytes <= headroom + (recent + 1) * body.size() + headroom / 8);
    CHECK(sent < most);

    // The waiting requests expire and their memory is given back; a request is then served.
    REQUIRE(eventually_counted(
        b, [](const stats& s) { return s.service->queued_bytes == 0; }, drain_limit));
    service_client client(b.service(), {.request_timeout = 300ms, .retries = 0});
    std::optional<message> reply;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!reply && std::chrono::steady_clock::now() < deadline) {
        reply = client.request("echo", {"again"});
    }
    REQUIRE(reply);
    CHECK(*reply == message{"again"});
}

TEST_CASE("without a memory budget nothing is read or refused", "[broker][service]") {
    running_broker b(service_only());
    serving_worker echoing(b.service(), "echo", echo);
    service_client client(b.service(), {.request_timeout = 1s, .retries = 2});
    REQUIRE(client.request("echo", {"x"}));
    CHECK_FALSE(b.counters().memory);
    broker::detail::memory_budget none{0};
    CHECK_FALSE(none.exhausted());
    CHECK(none.refusals() == 0);
}

TEST_CASE("past its memory budget the last-value cache keeps no new topic, and messages still flow",
          "[broker][forwarder][lvc][robustness]") {
    broker::config cfg = forwarder_on("tcp://127.0.0.1:*", "tcp://127.0.0.1:*", true);
    cfg.max_memory = 1;  // less than any process holds: every new entry is refused
    running_broker b(cfg);
    publisher pub(at(b.forwarder_frontend()));
    REQUIRE(pub.wait_for_subscriptions(1, 5s));  // the cache takes everything upstream
    subscriber live(b.forwarder_backend(), {"price."});
    // The subscription reaches the publisher through the broker: publish until one arrives.
    std::optional<message> first;
    for (int i = 0; i < 100 && !first; ++i) {
        pub.publish("price.a", std::to_string(i));
        first = live.receive(50ms);
    }
    REQUIRE(first);
    // The forwarder counts a step's messages as the step returns, which may be after the
    // subscriber has one: wait for the counts to agree.
    CHECK(eventually_counted(b, [](const stats& s) {
        return s.forwarder->uncached > 0 &&
               s.forwarder->uncached == s.forwarder->counts.messages_in;
    }));
    const stats s = b.counters();
    CHECK(s.forwarder->cached_topics == 0);
    REQUIRE(s.memory);
    CHECK(s.memory->refusals >= s.forwarder->uncached);

    subscriber late(b.forwarder_backend(), {"price."});
    CHECK_FALSE(late.receive(200ms));  // nothing cached to replay
}

TEST_CASE(
    "at its memory budget a worker for a new service is told DISCONNECT, one for a known "
    "service is taken",
    "[broker][service][robustness]") {
    auto cfg = service_only();
    cfg.service->request_expiry = 200ms;
    cfg.max_memory = held_now() + headroom;
    running_broker b(cfg);
    serving_worker first(b.service(), "echo", echo);
    REQUIRE(eventually_served(b, "echo", 1));
    {
        // Memory the process holds, written so that it is resident, takes it past the budget.
        const std::string ballast(2 * headroom, 'x');
        // Requests for a service never seen are refused once the broker reads the budget as
        // reached (it reads the memory at most every 10 ms).
        raw_peer asker(b.service());
        REQUIRE(eventually([&] {
            asker.send({"", mdp::client_header, "nobody", "x"});
            return b.counters().service->requests_rejected > 0;
        }));
        raw_peer newcomer(b.service());
        newcomer.send({"", mdp::worker_header, mdp::frame_of(mdp::command::ready), "late"});
        const std::optional<message> told = newcomer.receive();
        REQUIRE(told);
        CHECK(*told == message{"", mdp::worker_header, mdp::frame_of(mdp::command::disconnect)});
        CHECK(b.counters().memory->refusals >= 2);

        serving_worker second(b.service(), "echo", echo);
        CHECK(eventually_served(b, "echo", 2));
        CHECK(ballast.size() == 2 * headroom);
    }
    // The ballast given back, a worker for the new service is taken.
    serving_worker late(b.service(), "late", echo);
    CHECK(eventually_served(b, "late", 1));
}
