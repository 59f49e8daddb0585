// Request-reply's promises, on every transport.

#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "support/test_support.hpp"
#include "zpat/core/error.hpp"
#include "zpat/reqrep.hpp"

using namespace zpat::testing;
using zpat::message;

namespace {

// The transports a requester is tried on. Over tcp:// its REQ is zpat's own by default, doing
// its I/O on the caller's thread (io_model::automatic); "tcp, libzmq" is libzmq's REQ
// (io_model::io_thread).
constexpr const char* libzmq_tcp = "tcp, libzmq";

std::string transport_of(const std::string& variant) {
    return variant == libzmq_tcp ? "tcp" : variant;
}

zpat::options io_of(const std::string& variant, zpat::options opts = {}) {
    if (variant == libzmq_tcp) {
        opts.io = zpat::io_model::io_thread;
    }
    return opts;
}

message echo(message request) {
    return request;
}

// Runs replier.serve(handler, threads) on a thread; stops and joins on destruction.
class serving {
  public:
    serving(zpat::replier& replier, zpat::replier::handler handler, unsigned threads)
        : replier_(replier), thread_([this, handler = std::move(handler), threads] {
              replier_.serve(handler, threads);
          }) {}
    ~serving() {
        replier_.stop();
        thread_.join();
    }
    serving(const serving&) = delete;
    serving& operator=(const serving&) = delete;

  private:
    zpat::replier& replier_;
    std::thread thread_;
};

}  // namespace

TEST_CASE("a requester gets the reply to its request") {
    const std::string variant =
        GENERATE(as<std::string>{}, "tcp", libzmq_tcp, "ipc", "inproc", "raw+tcp", "raw+udp");
    CAPTURE(variant);
    zpat::replier replier("@" + any_endpoint(transport_of(variant)));
    zpat::requester requester(replier.endpoints()[0], io_of(variant));
    std::thread server([&] {
        auto request = replier.receive(5s);
        REQUIRE(request);
        CHECK(*request == message{"Hello", "frame two"});
        replier.reply(message{"World"});
    });
    auto reply = requester.request(message{"Hello", "frame two"});
    server.join();
    REQUIRE(reply);
    CHECK(*reply == message{"World"});
    CHECK(requester.last_attempts() == 1);
}

TEST_CASE("replies reach the right one of many concurrent clients") {
    const std::string variant =
        GENERATE(as<std::string>{}, "tcp", libzmq_tcp, "ipc", "inproc", "raw+tcp", "raw+udp");
    const unsigned threads = GENERATE(1U, 4U);
    CAPTURE(variant, threads);
    zpat::replier replier("@" + any_endpoint(transport_of(variant)));
    serving server(replier, echo, threads);

    constexpr int clients = 8;
    constexpr int requests = 25;
    std::atomic<int> correct{0};
    std::vector<std::thread> workers;
    for (int c = 0; c < clients; ++c) {
        workers.emplace_back([&, c] {
            zpat::requester requester(replier.endpoints()[0], io_of(variant));
            for (int r = 0; r < requests; ++r) {
                const std::string body =
                    "client " + std::to_string(c) + " request " + std::to_string(r);
                auto reply = requester.request(message{body});
                if (reply && reply->front() == body) {
                    ++correct;
                }
            }
        });
    }
    for (auto& w : workers) {
        w.join();
    }
    CHECK(correct == clients * requests);
}

TEST_CASE("a pool of handler threads serves requests side by side") {
    zpat::replier replier("@" + any_endpoint("tcp"));
    std::atomic<int> inside{0};
    std::atomic<int> most_inside{0};
    serving server(
        replier,
        [&](message request) {
            const int now = ++inside;
            int seen = most_inside.load();
            while (now > seen && !most_inside.compare_exchange_weak(seen, now)) {
            }
            // Hold the thread until another request is being handled too (or give up).
            eventually([&] { return most_inside.load() >= 2; }, 2s);
            --inside;
            return request;
        },
        3);
    std::vector<std::thread> clients;
    for (int c = 0; c < 3; ++c) {
        clients.emplace_back([&] {
            zpat::requester requester(replier.endpoints()[0]);
            CHECK(requester.request(message{"x"}));
        });
    }
    for (auto& c : clients) {
        c.join();
    }
    CHECK(most_inside.load() >= 2);
}

TEST_CASE("a lost reply is recovered by a retry on a fresh connection") {
    const std::string variant =
        GENERATE(as<std::string>{}, "tcp", libzmq_tcp, "ipc", "inproc", "raw+tcp", "raw+udp");
    CAPTURE(variant);
    zpat::replier replier("@" + any_endpoint(transport_of(variant)));
    std::atomic<int> calls{0};
    // The first request is received and never answered, as by a server that crashed mid-way.
    serving server(
        replier,
        [&](message request) -> message {
            if (++calls == 1) {
                throw std::runtime_error("lost");
            }
            return message{"answered " + request.front()};
        },
        1);
    zpat::requester requester(replier.endpoints()[0],
                              io_of(variant, {.request_timeout = 500ms, .retries = 4}));
    auto reply = requester.request(message{"ping"});
    REQUIRE(reply);
    CHECK(reply->front() == "answered ping");
    // The first attempt was lost; on a slow machine a retry may also miss its window.
    CHECK(requester.last_attempts() >= 2);
    CHECK(calls >= 2);
    CHECK(calls <= requester.last_attempts());
}

TEST_CASE(
    "a requester given several servers fails over past one that is down or silent to one "
    "that answers (Freelance)") {
    const std::string variant = GENERATE(as<std::string>{}, "tcp", libzmq_tcp, "ipc", "raw+tcp");
    CAPTURE(variant);
    const std::string transport = transport_of(variant);
    // The first server listed takes requests and never answers; the second is down; the third
    // answers. Every request is answered, within its attempts, whichever server its turn
    // starts at.
    zpat::replier silent("@" + any_endpoint(transport));
    reserved_port down;
    zpat::replier live("@" + any_endpoint(transport));
    serving server(live, echo, 1);
    const std::string down_endpoint =
        transport == "ipc" ? absent_endpoint() : down.endpoint(transport);
    // Each attempt opens a fresh connection: its timeout must cover the connection and the
    // live server's answer on a slow machine (under ThreadSanitizer 200 ms once did not).
    zpat::requester requester(
        ">" + silent.endpoints()[0] + ",>" + down_endpoint + ",>" + live.endpoints()[0],
        io_of(variant, {.request_timeout = 500ms, .retries = 2}));
    CHECK(requester.endpoints().size() == 3);
    for (int i = 0; i < 6; ++i) {
        const auto reply = requester.request(message{"ping", std::to_string(i)});
        REQUIRE(reply);
        CHECK(*reply == message{"ping", std::to_string(i)});
        CHECK(requester.last_attempts() <= 3);
    }
}

TEST_CASE("a requester given several servers stays with the one that answered") {
    const std::string variant = GENERATE(as<std::string>{}, "tcp", libzmq_tcp, "raw+tcp");
    CAPTURE(variant);
    // As the passive broker of a pair: takes requests, never answers.
    zpat::replier silent("@" + any_endpoint(transport_of(variant)));
    zpat::replier live("@" + any_endpoint(transport_of(variant)));
    serving server(live, echo, 1);
    zpat::requester requester(">" + silent.endpoints()[0] + ",>" + live.endpoints()[0],
                              io_of(variant, {.request_timeout = 200ms, .retries = 3}));
    REQUIRE(requester.request(message{"first"}));
    CHECK(requester.last_attempts() >= 2);  // the silent one first, then the live one
    for (int i = 0; i < 5; ++i) {
        REQUIRE(requester.request(message{"again", std::to_string(i)}));
        CHECK(requester.last_attempts() == 1);
    }
}

TEST_CASE("with no server, a request gives up after its retries instead of hanging") {
    const std::string variant = GENERATE(as<std::string>{}, "ipc", "tcp", libzmq_tcp);
    CAPTURE(variant);
    const reserved_port down;
    zpat::requester requester(variant == "ipc" ? absent_endpoint() : ">" + down.endpoint("tcp"),
                              io_of(variant, {.request_timeout = 50ms, .retries = 2}));
    const auto start = std::chrono::steady_clock::now();
    CHECK_FALSE(requester.request(message{"anyone?"}));
    const auto elapsed = std::chrono::steady_clock::now() - start;
    CHECK(requester.last_attempts() == 3);
    CHECK(elapsed >= 150ms);
    CHECK(elapsed < 5s);
}

TEST_CASE("a handler that throws loses only its own request") {
    zpat::replier replier("@" + any_endpoint("tcp"));
    serving server(
        replier,
        [](message request) -> message {
            if (request.front() == "bad") {
                throw std::runtime_error("handler failed");
            }
            return request;
        },
        1);
    zpat::requester impatient(replier.endpoints()[0], {.request_timeout = 200ms, .retries = 0});
    CHECK_FALSE(impatient.request(message{"bad"}));
    zpat::requester requester(replier.endpoints()[0]);
    auto good = requester.request(message{"good"});
    REQUIRE(good);
    CHECK(good->front() == "good");
    CHECK(replier.handler_failures() == 1);
}

TEST_CASE("replier refuses a reply with no request pending") {
    zpat::replier replier("@" + any_endpoint("inproc"));
    CHECK_THROWS_AS(replier.reply(message{"unasked"}), zpat::state_error);
}

TEST_CASE("stop() wakes a serve() that waits for requests, and it returns promptly") {
    const std::string transport = GENERATE(as<std::string>{}, "tcp", "raw+tcp");
    const unsigned threads = GENERATE(1U, 4U);
    CAPTURE(transport, threads);
    zpat::replier replier("@" + any_endpoint(transport));
    std::atomic<bool> returned{false};
    std::thread server([&] {
        replier.serve(echo, threads);
        returned = true;
    });
    {
        // One round trip: serve() is running. Then every thread of the process settles asleep,
        // so serve() is provably inside its wait for the next request.
        zpat::requester requester(replier.endpoints()[0], {.request_timeout = 2s, .retries = 0});
        REQUIRE(requester.request(message{"first"}) == message{"first"});
    }
    REQUIRE(others_settle_asleep());
    replier.stop();
    const bool prompt = eventually([&] { return returned.load(); }, 2s);
    CHECK(prompt);
    if (!prompt) {  // a stop() that cannot wake the wait: let a request end it, then fail
        zpat::requester nudge(replier.endpoints()[0], {.request_timeout = 1s, .retries = 0});
        (void)nudge.request(message{"nudge"});
    }
    server.join();
}

TEST_CASE("a replier serves again after stop(), and a stop() before serve() ends it at once") {
    const unsigned threads = GENERATE(1U, 4U);
    CAPTURE(threads);
    zpat::replier replier("@" + any_endpoint("tcp"));
    replier.stop();
    replier.serve(echo, threads);  // returns at once: the stop came first
    for (int round = 0; round < 3; ++round) {
        serving server(replier, echo, threads);
        zpat::requester requester(replier.endpoints()[0], {.request_timeout = 2s, .retries = 0});
        auto reply = requester.request(message{"round " + std::to_string(round)});
        REQUIRE(reply);
        CHECK(reply->front() == "round " + std::to_string(round));
    }
}
