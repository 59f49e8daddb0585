// How a refused CURVE client connects again (patterns/src/zmq/zmq_reconnect.hpp): backing off,
// not in a storm, and again after a refusal, which libzmq 4.3 alone never does. Modelled on
// libzmq's tests/test_reconnect_ivl.cpp (its back-off) and test_security_curve.cpp (the keys).

#include <catch2/catch.hpp>
#include <chrono>

#include "support/test_support.hpp"
#include "zpat/zpat.hpp"

using namespace zpat::testing;
using zpat::message;

namespace {

struct curve_keys_of_a_test {
    zpat::curve_keys server = zpat::make_curve_keys();
    zpat::curve_keys client = zpat::make_curve_keys();
    zpat::curve_keys stranger = zpat::make_curve_keys();

    zpat::options server_allowing(const zpat::curve_keys& who) const {
        return {.curve = zpat::curve_options{.keys = server, .allowed_clients = {who.public_key}}};
    }
    zpat::options client_as(const zpat::curve_keys& keys, const std::string& server_key) const {
        return {.curve = zpat::curve_options{.keys = keys, .server_key = server_key}};
    }
};

using steady = std::chrono::steady_clock;

}  // namespace

TEST_CASE(
    "a CURVE client with a wrong server key connects again backing off: a handful of "
    "attempts in three seconds, not one every 100-200 ms") {
    const curve_keys_of_a_test keys;
    zpat::publisher server("@tcp://127.0.0.1:*", keys.server_allowing(keys.client));
    const std::string at = ">" + server.endpoints()[0];
    // libzmq alone made about 20 attempts in 3 s (one per 100-200 ms); backing off from 100 ms,
    // doubling, with up to half again at random, makes 5 or 6 by then.
    const auto attempts_in_3s = [](auto&& wait) {
        const auto start = steady::now();
        while (steady::now() - start < 3s) {
            wait();
        }
    };

    SECTION("waiting in receive()") {
        zpat::subscriber misled(at, {""}, keys.client_as(keys.client, keys.stranger.public_key));
        attempts_in_3s([&] { CHECK_FALSE(misled.receive(3s)); });
        const auto seen = misled.connections();
        CHECK(seen.refused >= 3);
        CHECK(seen.opened >= 3);
        CHECK(seen.opened <= 8);
    }
    SECTION("waiting in a poller") {
        zpat::subscriber misled(at, {""}, keys.client_as(keys.client, keys.stranger.public_key));
        zpat::poller waiting;
        waiting.add(misled, [] {});
        attempts_in_3s([&] { waiting.run_once(3s); });
        const auto seen = misled.connections();
        CHECK(seen.opened >= 3);
        CHECK(seen.opened <= 8);
    }
    SECTION("a requester fails at once while it backs off, and does not connect meanwhile") {
        zpat::options opts = keys.client_as(keys.client, keys.stranger.public_key);
        opts.request_timeout = 5s;
        zpat::requester misled(at, opts);
        CHECK_THROWS_AS(misled.request(message{"first"}), zpat::security_error);
        int refused_at_once = 0;
        for (int i = 0; i < 50; ++i) {
            const auto start = steady::now();
            try {
                (void)misled.request(message{"again"});
            } catch (const zpat::security_error& e) {
                const bool waiting =
                    std::string(e.what()).find("the next attempt in") != std::string::npos;
                refused_at_once += waiting && steady::now() - start < 50ms ? 1 : 0;
            }
        }
        CHECK(refused_at_once >= 40);
        CHECK(misled.connections().opened <= 4);
    }
}

TEST_CASE(
    "a CURVE client refused by the server's allow-list connects again, backing off, and "
    "gets in once a server lets it") {
    const curve_keys_of_a_test keys;
    auto server =
        std::make_unique<zpat::publisher>("@tcp://127.0.0.1:*", keys.server_allowing(keys.client));
    const std::string bound = server->endpoints()[0];
    zpat::subscriber stranger(">" + bound, {""},
                              keys.client_as(keys.stranger, keys.server.public_key));
    CHECK(eventually(
        [&] {
            (void)stranger.receive(50ms);
            return stranger.connections().refused >= 2;  // refused, tried again, refused
        },
        5s));

    // The server comes back on the same port, now letting the stranger in. (libzmq lets go of
    // the port in its own time after a close.)
    server.reset();
    REQUIRE(eventually(
        [&] {
            try {
                server = std::make_unique<zpat::publisher>("@" + bound,
                                                           keys.server_allowing(keys.stranger));
                return true;
            } catch (const zpat::connection_error&) {
                return false;
            }
        },
        5s));
    bool got = false;
    const auto start = steady::now();
    while (!got && steady::now() - start < 15s) {
        (void)server->send(message{"welcome"});
        got = stranger.receive(100ms).has_value();
    }
    CHECK(got);
}
