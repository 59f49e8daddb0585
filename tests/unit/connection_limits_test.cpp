// The time limits on one raw connection, on made-up clocks.

#include <catch2/catch.hpp>

#include "connection_limits.hpp"

using zpat::detail::connection_clock;
using zpat::detail::connection_limits;
using namespace std::chrono_literals;

namespace {

const connection_clock::time_point t0{};

connection_clock greeted_at(connection_clock::time_point t) {
    connection_clock c;
    c.opened = c.partial_since = c.last_heard = t;
    c.greeted = true;
    return c;
}

}  // namespace

TEST_CASE("limits: a connection must greet within handshake_timeout") {
    const connection_limits limits({.handshake_timeout = 200ms});
    connection_clock c;
    c.opened = t0;
    CHECK(limits.breach(c, t0 + 200ms).reason.empty());
    CHECK(limits.breach(c, t0 + 201ms).reason == "no greeting within 200 ms");
    c.greeted = true;
    CHECK(limits.breach(c, t0 + 10s).reason.empty());
}

TEST_CASE(
    "limits: an unfinished message must complete within partial_message_timeout, "
    "except while we do not read") {
    const connection_limits limits({.partial_message_timeout = 300ms});
    connection_clock c = greeted_at(t0);
    c.partial_bytes = 10;
    CHECK(limits.breach(c, t0 + 300ms).reason.empty());
    CHECK(limits.breach(c, t0 + 301ms).reason ==
          "a message begun 10 bytes ago was not complete within 300 ms");
    c.reading = false;
    CHECK(limits.breach(c, t0 + 1h).reason.empty());
    c.reading = true;
    c.partial_bytes = 0;  // nothing unfinished: no clock runs
    CHECK(limits.breach(c, t0 + 1h).reason.empty());
}

TEST_CASE("limits: idle_timeout is off unless set, and then closes a silent connection") {
    CHECK(connection_limits(zpat::options{}).breach(greeted_at(t0), t0 + 24h).reason.empty());
    const connection_limits limits({.idle_timeout = 1s});
    CHECK(limits.idle_limited());
    CHECK(limits.breach(greeted_at(t0), t0 + 1s).reason.empty());
    CHECK(limits.breach(greeted_at(t0), t0 + 1001ms).reason == "nothing received for 1000 ms");
}

TEST_CASE("limits: the sweep looks at a quarter of the shortest limit, 10 ms to 1 s") {
    CHECK(connection_limits(zpat::options{}).sweep_interval() == 1s);
    CHECK(connection_limits({.handshake_timeout = 200ms}).sweep_interval() == 50ms);
    CHECK(connection_limits({.handshake_timeout = 1ms}).sweep_interval() == 10ms);
    CHECK(connection_limits(
              {.handshake_timeout = zpat::forever, .partial_message_timeout = zpat::forever})
              .sweep_interval() == 1s);
}
