// The poller's promises.

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <functional>
#include <vector>
#include <zmq.hpp>

#include "support/test_support.hpp"
#include "zpat/pipeline.hpp"
#include "zpat/poller.hpp"
#include "zpat/pubsub.hpp"
#include "zpat/router.hpp"

using namespace zpat::testing;
using zpat::message;

TEST_CASE("a poller runs the callback of each role that has a message") {
    const std::string transport = GENERATE(as<std::string>{}, "tcp", "raw+tcp");
    CAPTURE(transport);
    zpat::puller tasks("@" + any_endpoint(transport));
    zpat::publisher pub("@" + any_endpoint(transport));
    zpat::subscriber updates(pub.endpoints()[0], {""});
    zpat::pusher feeder(tasks.endpoints()[0]);
    REQUIRE(pub.wait_for_subscriptions(1, 5s));

    std::vector<std::string> seen;
    zpat::poller poller;
    poller.add(tasks, [&] { seen.push_back(tasks.receive(0ms)->front()); });
    poller.add(updates, [&] { seen.push_back(updates.receive(0ms)->front()); });

    feeder.send(message{"task"});
    pub.publish("update", "");
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (seen.size() < 2 && std::chrono::steady_clock::now() < deadline) {
        poller.run_once(1s);
    }
    std::sort(seen.begin(), seen.end());
    CHECK(seen == std::vector<std::string>{"task", "update"});
}

namespace {

// Takes `count` messages from `role` through a poller, one per wake-up, each checked by
// `expected(i)`: the role must stay ready exactly until the last is taken.
template <class Role>
void take_one_per_wake(Role& role, int count, const std::function<message(int)>& expected) {
    int received = 0;
    int empty_wakes = 0;
    zpat::poller poller;
    poller.add(role, [&] {
        message msg;
        if (role.receive(msg, 0ms)) {
            CHECK(msg == expected(received));
            ++received;
        } else {
            ++empty_wakes;
        }
    });
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (received < count && std::chrono::steady_clock::now() < deadline) {
        poller.run_once(1s);
    }
    CHECK(received == count);
    CHECK(empty_wakes == 0);
    CHECK(poller.run_once(50ms) == 0);  // nothing left: not ready
}

}  // namespace

TEST_CASE("a poller reports a role ready exactly while it has messages waiting") {
    const std::string transport = GENERATE(as<std::string>{}, "tcp", "raw+tcp");
    CAPTURE(transport);
    zpat::puller tasks("@" + any_endpoint(transport));
    zpat::pusher feeder(tasks.endpoints()[0]);
    constexpr int count = 200;  // they arrive together: a raw puller takes them as one batch
    for (int i = 0; i < count; ++i) {
        REQUIRE(feeder.send(message{std::to_string(i)}));
    }
    take_one_per_wake(tasks, count, [](int i) { return message{std::to_string(i)}; });
}

TEST_CASE("a poller reports a raw xsubscriber ready exactly while messages wait") {
    zpat::publisher pub("@raw+tcp://127.0.0.1:*");
    zpat::xsubscriber xsub(">" + pub.endpoints()[0]);
    xsub.subscribe("");
    REQUIRE(pub.wait_for_subscriptions(1, 5s));
    constexpr int count = 200;  // they arrive together: one encoded batch, handed out one by one
    for (int i = 0; i < count; ++i) {
        REQUIRE(pub.publish("t", std::to_string(i)));
    }
    take_one_per_wake(xsub, count, [](int i) { return message{"t", std::to_string(i)}; });
}

TEST_CASE("a poller's timers fire on time among the roles, and run_once honours its deadline") {
    // On time means neither early nor late: late by up to `slack` passes on a noisy machine,
    // ten periods late does not.
    constexpr auto period = 50ms;
    constexpr auto slack = 250ms;
    zpat::puller idle("@" + any_endpoint("inproc"));
    zpat::poller poller;
    poller.add(idle, [] { FAIL("nothing was sent"); });
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::chrono::steady_clock::duration> ticks;
    std::vector<std::chrono::steady_clock::duration> once;
    const auto id =
        poller.every(period, [&] { ticks.push_back(std::chrono::steady_clock::now() - start); });
    poller.after(2 * period + period / 2,
                 [&] { once.push_back(std::chrono::steady_clock::now() - start); });

    while (ticks.size() < 5) {
        REQUIRE(poller.run_once(1s) > 0);
    }
    for (std::size_t k = 0; k < ticks.size(); ++k) {
        CAPTURE(k, std::chrono::duration_cast<std::chrono::microseconds>(ticks[k]).count());
        CHECK(ticks[k] >= period * static_cast<int>(k + 1));
        CHECK(ticks[k] <= period * static_cast<int>(k + 1) + slack);
    }
    REQUIRE(once.size() == 1);
    CHECK(once[0] >= 2 * period + period / 2);
    CHECK(once[0] <= 2 * period + period / 2 + slack);

    poller.cancel(id);
    const auto before = std::chrono::steady_clock::now();
    CHECK(poller.run_once(30ms) == 0);
    const auto waited = std::chrono::steady_clock::now() - before;
    CHECK(waited >= 30ms);
    CHECK(waited <= 30ms + slack);
    CHECK(ticks.size() == 5);
}

TEST_CASE("a poller reports a raw+udp subscriber ready exactly while datagrams wait") {
    zpat::publisher pub("@raw+udp://127.0.0.1:*");
    zpat::subscriber updates(">" + pub.endpoints()[0], {""});
    REQUIRE(pub.wait_for_subscriptions(1, 5s));
    zpat::poller poller;
    int received = 0;
    int empty_wakes = 0;
    poller.add(updates, [&] { updates.receive(0ms) ? ++received : ++empty_wakes; });
    for (int i = 0; i < 3; ++i) {
        REQUIRE(pub.publish("update", std::to_string(i)));
    }
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (received < 3 && std::chrono::steady_clock::now() < deadline) {
        poller.run_once(1s);
    }
    CHECK(received == 3);
    CHECK(empty_wakes == 0);
    poller.run_once(100ms);  // nothing waits: no wake-up
    CHECK(received == 3);
    CHECK(empty_wakes == 0);
}

TEST_CASE("a poller runs the callback of a descriptor that hung up, so its owner reads the end") {
    int ends[2];
    REQUIRE(::pipe(ends) == 0);
    ::close(ends[1]);  // the writer is gone: poll says POLLHUP, and no POLLIN
    zpat::poller poller;
    int calls = 0;
    poller.add_descriptor(ends[0], [&] {
        char byte = 0;
        CHECK(::read(ends[0], &byte, 1) == 0);  // the end of input
        ++calls;
    });
    CHECK(poller.run_once(5s) == 1);
    CHECK(calls == 1);
    poller.remove_descriptor(ends[0]);
    ::close(ends[0]);
}

namespace {

// CPU time the calling thread has used.
std::chrono::microseconds thread_cpu() {
    rusage used{};
    ::getrusage(RUSAGE_THREAD, &used);
    return std::chrono::seconds(used.ru_utime.tv_sec + used.ru_stime.tv_sec) +
           std::chrono::microseconds(used.ru_utime.tv_usec + used.ru_stime.tv_usec);
}

}  // namespace

TEST_CASE("a poller waits inside a caller router's own wait, for its descriptors too") {
    // A router with io_model::caller waits for the poller's other descriptors in its own epoll
    // set: each must still be seen, alone or beside the router, after its number is reused, and
    // not make the router's own receive() spin while it is readable.
    zpat::router server("@" + any_endpoint("tcp"),
                        {.send_timeout = 0ms, .io = zpat::io_model::caller});
    std::array<int, 2> signal{};
    REQUIRE(::pipe(signal.data()) == 0);
    zpat::poller poller;
    int router_calls = 0;
    int signal_calls = 0;
    poller.add(server, [&] { ++router_calls; });
    poller.add_descriptor(signal[0], [&] { ++signal_calls; });
    const auto raise = [&] { CHECK(::write(signal[1], "x", 1) == 1); };
    const auto lower = [&] {
        char byte = 0;
        CHECK(::read(signal[0], &byte, 1) == 1);
    };

    CHECK(poller.run_once(20ms) == 0);  // nothing is ready: the deadline holds

    raise();
    CHECK(poller.run_once(5s) == 1);
    CHECK(signal_calls == 1);
    CHECK(router_calls == 0);
    lower();

    zmq::context_t ctx;
    zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
    dealer.connect(server.endpoints()[0]);
    dealer.send(zmq::str_buffer("hello"));
    REQUIRE(eventually([&] { return poller.run_once(100ms) > 0 && router_calls > 0; }));
    CHECK(signal_calls == 1);
    auto hello = server.receive(0ms);
    REQUIRE(hello);
    CHECK(hello->at(1) == "hello");

    // Both at once: both callbacks.
    dealer.send(zmq::str_buffer("again"));
    raise();
    REQUIRE(eventually([&] {
        poller.run_once(100ms);
        return router_calls >= 2 && signal_calls >= 2;
    }));
    CHECK(server.receive(0ms));
    lower();
    CHECK(poller.run_once(20ms) == 0);  // registered again after that receive saw it

    // The same descriptor number, now another pipe: it is watched afresh.
    poller.remove_descriptor(signal[0]);
    std::array<int, 2> other{};
    REQUIRE(::pipe(other.data()) == 0);
    REQUIRE(::dup2(other[0], signal[0]) == signal[0]);
    ::close(other[0]);
    ::close(signal[1]);
    signal[1] = other[1];
    poller.add_descriptor(signal[0], [&] { ++signal_calls; });
    const int before = signal_calls;
    raise();
    CHECK(poller.run_once(5s) == 1);
    CHECK(signal_calls == before + 1);
    lower();

    // While the descriptor stays readable, a receive that waits is not woken by it over and
    // over: it takes its 200 ms at almost no CPU.
    raise();
    CHECK(poller.run_once(5s) == 1);
    const auto cpu_before = thread_cpu();
    CHECK_FALSE(server.receive(200ms));
    CHECK(thread_cpu() - cpu_before < 50ms);
    lower();

    // A descriptor epoll does not take (a device with no poll: poll(2) calls it readable).
    const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    REQUIRE(null >= 0);
    int null_calls = 0;
    poller.add_descriptor(null, [&] { ++null_calls; });
    CHECK(poller.run_once(5s) == 1);
    CHECK(null_calls == 1);
    poller.remove_descriptor(null);
    ::close(null);
    poller.remove_descriptor(signal[0]);
    ::close(signal[0]);
    ::close(signal[1]);
}
