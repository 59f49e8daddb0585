// The pipeline's promises, on every transport.

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/test_support.hpp"
#include "zpat/core/error.hpp"
#include "zpat/pipeline.hpp"
#include "zpat/poller.hpp"
#include "zpat/reqrep.hpp"

using namespace zpat::testing;
using zpat::message;

TEST_CASE("a pusher round-robins across its connected pullers") {
    const std::string transport = GENERATE(as<std::string>{}, "tcp", "ipc", "inproc", "raw+tcp");
    CAPTURE(transport);
    zpat::puller a("@" + any_endpoint(transport));
    zpat::puller b("@" + any_endpoint(transport));
    zpat::puller c("@" + any_endpoint(transport));
    // Connecting creates each peer's queue at once, so the turn order is exact from the start.
    zpat::pusher pusher(">" + a.endpoints()[0] + ",>" + b.endpoints()[0] + ",>" + c.endpoints()[0]);
    for (int i = 0; i < 30; ++i) {
        REQUIRE(pusher.send(message{std::to_string(i)}));
    }
    int index = 0;
    for (int round = 0; round < 10; ++round) {
        for (zpat::puller* p : {&a, &b, &c}) {
            auto msg = p->receive(5s);
            REQUIRE(msg);
            CHECK(msg->front() == std::to_string(index++));
        }
    }
    for (zpat::puller* p : {&a, &b, &c}) {
        CHECK_FALSE(p->receive(0ms));
    }
}

namespace {

// Fills two pushers' paths to one puller that does not read, then reads 40 messages and says
// whose each was: "l" or "r".
std::string fair_queue_order(const std::string& transport) {
    const zpat::options small_queues{
        .send_high_water_mark = 50, .receive_high_water_mark = 50, .send_timeout = 0ms};
    zpat::puller puller("@" + any_endpoint(transport), small_queues);
    zpat::pusher left(puller.endpoints()[0], small_queues);
    zpat::pusher right(puller.endpoints()[0], small_queues);
    // The puller does not read, so both paths fill up: its queues, the sockets' buffers, the
    // pushers' queues. When neither pusher has had room for a while, messages from both are
    // waiting at the puller, and a fair queue must then take them in turn.
    // Both connections up first: a pusher whose connection is still in its handshake queues
    // messages all the same, and they would reach the puller late.
    REQUIRE(left.send(message{"l", "probe"}));
    REQUIRE(right.send(message{"r", "probe"}));
    for (int i = 0; i < 2; ++i) {
        REQUIRE(puller.receive(5s));
    }
    const std::string padding(1000, '.');
    const auto fill = [&](zpat::pusher& p, const char* name) {
        int sent = 0;
        while (sent < 100000 && p.send(message{name, padding})) {
            ++sent;
        }
        return sent;
    };
    int quiet_rounds = 0;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (quiet_rounds < 20) {
        REQUIRE(std::chrono::steady_clock::now() < deadline);
        quiet_rounds = fill(left, "l") + fill(right, "r") == 0 ? quiet_rounds + 1 : 0;
        std::this_thread::sleep_for(5ms);  // one step of the quiet window, not a settling guess
    }
    // A poll is where a ZeroMQ socket catches up with news of its pipes: while reading it looks
    // only every 100 messages, so a pipe that ran dry at the probe and has filled since would
    // rejoin the queue late. After the poll every pipe with messages waiting is in it.
    zpat::poller ready;
    ready.add(puller, [] {});
    REQUIRE(ready.run_once(5s) == 1);
    std::string order;
    for (int i = 0; i < 40; ++i) {
        auto msg = puller.receive(5s);
        REQUIRE(msg);
        order += msg->front();
    }
    return order;
}

std::size_t longest_run(const std::string& order) {
    std::size_t run = 1;
    std::size_t longest = 1;
    for (std::size_t i = 1; i < order.size(); ++i) {
        run = order[i] == order[i - 1] ? run + 1 : 1;
        longest = std::max(longest, run);
    }
    return longest;
}

}  // namespace

TEST_CASE("a puller fair-queues between pushers that both have messages waiting") {
    const std::string transport = GENERATE(as<std::string>{}, "tcp", "ipc", "inproc", "raw+tcp");
    CAPTURE(transport);
    // In turn: strictly, on an idle machine. On a busy one (CI, or under ThreadSanitizer)
    // libzmq's I/O thread may hand a pipe its messages a socket read (8 of them) at a time, and
    // the pipe that ran dry rejoins a read later, so runs of 8 or 9 happen. What is checked is
    // that neither pusher gets more than 16 in a row and both get their share: each pusher has
    // more than 40 messages waiting, so a queue that serves one while the other waits fails.
    // That the other's messages are waiting is known only from its pusher having had no room:
    // one I/O thread carries both paths, and on a loaded machine it can lag so long behind
    // that one path's messages have not reached the puller's queue when reading starts. A fresh
    // attempt is then a fair test again; an unfair queue fails every attempt.
    const auto fair = [](const std::string& order) {
        return longest_run(order) <= 16 && std::count(order.begin(), order.end(), 'l') >= 15 &&
               std::count(order.begin(), order.end(), 'r') >= 15;
    };
    std::vector<std::string> orders{fair_queue_order(transport)};
    while (!fair(orders.back()) && orders.size() < 3) {
        orders.push_back(fair_queue_order(transport));
    }
    CAPTURE(orders);
    const std::string& order = orders.back();
    CHECK(longest_run(order) <= 16);
    CHECK(std::count(order.begin(), order.end(), 'l') >= 15);
    CHECK(std::count(order.begin(), order.end(), 'r') >= 15);
}

TEST_CASE("a puller takes everything from many pushers, each one's messages in order") {
    // Not ZeroMQ's tcp: its fan-in is ipc's, and twenty tcp connects in a row trip a
    // ThreadSanitizer report inside libzmq, whose own synchronisation TSan cannot see.
    const std::string transport = GENERATE(as<std::string>{}, "inproc", "ipc", "raw+tcp");
    CAPTURE(transport);
    zpat::puller puller("@" + any_endpoint(transport));
    constexpr int pushers = 20;
    constexpr int each = 500;
    std::vector<std::unique_ptr<zpat::pusher>> sources;
    sources.reserve(pushers);
    for (int p = 0; p < pushers; ++p) {
        sources.push_back(std::make_unique<zpat::pusher>(puller.endpoints()[0]));
    }
    for (int i = 0; i < each; ++i) {
        for (int p = 0; p < pushers; ++p) {
            REQUIRE(sources[static_cast<std::size_t>(p)]->send(
                message{std::to_string(p), std::to_string(i)}));
        }
    }
    std::map<std::string, int> next;  // by pusher: the number its next message must carry
    for (int n = 0; n < pushers * each; ++n) {
        auto msg = puller.receive(5s);
        REQUIRE(msg);
        int& expected = next[msg->at(0)];
        REQUIRE(msg->at(1) == std::to_string(expected));
        ++expected;
    }
    CHECK(next.size() == pushers);
    CHECK_FALSE(puller.receive(50ms));
}

TEST_CASE("pipeline messages keep every frame, in order, binary-safe") {
    const std::string transport = GENERATE(as<std::string>{}, "tcp", "ipc", "inproc", "raw+tcp");
    CAPTURE(transport);
    zpat::puller puller("@" + any_endpoint(transport));
    zpat::pusher pusher(puller.endpoints()[0]);
    const message sent{"task", std::string("\0\1\2", 3), "", std::string(100000, 'x')};
    REQUIRE(pusher.send(sent));
    auto got = puller.receive(5s);
    REQUIRE(got);
    CHECK(*got == sent);
}

TEST_CASE("a pusher with no reachable puller queues up to its high-water mark, then reports full") {
    zpat::pusher pusher(absent_endpoint(), {.send_high_water_mark = 5, .send_timeout = 0ms});
    int accepted = 0;
    while (accepted < 100 && pusher.send(message{"job"})) {
        ++accepted;
    }
    CHECK(accepted == 5);
}

TEST_CASE("with immediate, a pusher queues nothing before a puller is connected") {
    const std::string transport = GENERATE(as<std::string>{}, "tcp", "ipc", "raw+tcp");
    CAPTURE(transport);
    // An endpoint nobody listens on yet: a fresh path, or a port held without a listener.
    const reserved_port port;
    const std::string endpoint = transport == "ipc" ? absent_endpoint() : port.endpoint(transport);
    zpat::pusher pusher(">" + endpoint, {.send_timeout = 200ms, .immediate = true});
    CHECK_FALSE(pusher.send(message{"to nobody"}));  // waited, then refused: nothing queued
    zpat::puller puller("@" + endpoint);
    const zpat::options patient{.send_timeout = 10s, .immediate = true};
    zpat::pusher late(">" + endpoint, patient);  // as the first, but given time to connect
    REQUIRE(late.send(message{"to someone"}));
    auto got = puller.receive(5s);
    REQUIRE(got);
    CHECK(got->front() == "to someone");
    REQUIRE(eventually([&] { return pusher.send(message{"now connected"}); }, 10s));
    got = puller.receive(5s);
    REQUIRE(got);
    CHECK(got->front() == "now connected");  // "to nobody" was never queued
    CHECK_FALSE(puller.receive(100ms));
}

TEST_CASE("immediate where a connection is never in doubt (raw+udp, inproc) is refused") {
    const std::string endpoint =
        GENERATE(as<std::string>{}, "raw+udp://127.0.0.1:9", "inproc://zpat-test-immediate");
    CAPTURE(endpoint);
    try {
        zpat::requester requester(">" + endpoint, {.immediate = true});
        FAIL("a requester with immediate was built");
    } catch (const zpat::option_error& e) {
        CHECK_THAT(e.what(), Catch::Contains("immediate") &&
                                 Catch::Contains(endpoint.substr(0, endpoint.find(':'))));
    }
}

TEST_CASE("a puller that stops receiving holds its pusher back, and nothing is lost") {
    const std::string transport = GENERATE(as<std::string>{}, "tcp", "ipc", "raw+tcp");
    CAPTURE(transport);
    zpat::puller puller("@" + any_endpoint(transport), {.receive_high_water_mark = 10});
    zpat::pusher pusher(puller.endpoints()[0], {.send_high_water_mark = 10, .send_timeout = 200ms});
    // Both high-water marks and the kernel's socket buffers fill, then a send waits in vain:
    // a few hundred 64 KiB messages, far below the bound unless nothing holds the pusher back.
    const std::string body(std::size_t{64} * 1024, 'x');
    constexpr int bound = 5000;
    int accepted = 0;
    while (accepted < bound && pusher.send(message{std::to_string(accepted), body})) {
        ++accepted;
    }
    CHECK(accepted < bound);
    for (int i = 0; i < accepted; ++i) {
        auto msg = puller.receive(5s);
        REQUIRE(msg);
        CHECK(msg->front() == std::to_string(i));
    }
    REQUIRE(pusher.send(message{"after"}));
    auto last = puller.receive(5s);
    REQUIRE(last);
    CHECK(last->front() == "after");
}

TEST_CASE("a message over max_message_size is refused on send with the sizes in the error") {
    zpat::pusher pusher(absent_endpoint(), {.max_message_size = 1024});
    CHECK(pusher.send(message{std::string(1024, 'x')}));
    CHECK_THROWS_WITH(
        pusher.send(message{std::string(1000, 'x'), std::string(25, 'y')}),
        Catch::Matchers::Contains("message of 1025 bytes exceeds max_message_size of 1024"));
    CHECK_THROWS_AS(pusher.send(message{}), zpat::state_error);
}

TEST_CASE("a message over max_message_frames is refused on send with the counts in the error") {
    zpat::pusher pusher(absent_endpoint(), {.max_message_frames = 3});
    CHECK(pusher.send(message{"a", "b", "c"}));
    CHECK_THROWS_WITH(
        pusher.send(message{"a", "b", "c", "d"}),
        Catch::Matchers::Contains("message of 4 frames exceeds max_message_frames of 3"));
}

TEST_CASE("a puller refuses a message over max_message_frames: ZeroMQ drops it, raw cuts off") {
    // Many empty frames cost memory beyond their bytes (a frame's bookkeeping), so the frame
    // count is bounded apart from the size. ZeroMQ discards the message and counts it; the
    // raw wire format declares the count up front, so raw+tcp closes that connection at once,
    // before anything is allocated for the frames.
    const std::string transport = GENERATE(as<std::string>{}, "tcp", "ipc", "inproc", "raw+tcp");
    CAPTURE(transport);
    zpat::puller puller("@" + any_endpoint(transport), {.max_message_frames = 10});
    zpat::pusher pusher(puller.endpoints()[0]);
    const auto frames = [](std::size_t count, std::string_view each) {
        message msg;
        for (std::size_t i = 0; i < count; ++i) {
            msg.push_back(std::string(each));
        }
        return msg;
    };
    REQUIRE(pusher.send(frames(11, "")));
    REQUIRE(pusher.send(frames(10, "ok")));
    if (transport == "raw+tcp") {
        CHECK(eventually([&] { return puller.connections().malformed == 1; }));
        CHECK_FALSE(puller.receive(0ms));
        return;
    }
    auto msg = puller.receive(5s);
    REQUIRE(msg);
    CHECK(*msg == frames(10, "ok"));
    CHECK(puller.oversized_dropped() == 1);
}
