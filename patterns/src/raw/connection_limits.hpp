#pragma once
// connection_limits: the time limits on one raw connection (options::handshake_timeout,
// partial_message_timeout, idle_timeout) as a policy over a connection's clocks, apart from the
// sockets, so that it is unit-tested with made-up times. The engine keeps the clocks and asks
// breach() on a sweep; whoever breaks a limit is closed with the reason it returns.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <string>

#include "zpat/core/options.hpp"

namespace zpat::detail {

// What the engine knows of one connection's progress, in the I/O thread's hands.
struct connection_clock {
    using time_point = std::chrono::steady_clock::time_point;
    time_point opened;         // the TCP connection is up
    time_point partial_since;  // the unfinished message began to arrive
    time_point last_heard;     // anything last arrived (kept only with an idle limit)
    bool greeted = false;      // the peer's greeting has been checked
    bool reading = true;       // false while we ourselves do not read (receive high-water mark)
    std::size_t partial_bytes = 0;  // of the unfinished message, buffered so far
};

class connection_limits {
  public:
    using milliseconds = std::chrono::milliseconds;

    enum class limit { none, handshake, partial_message, idle };
    struct verdict {
        limit broken = limit::none;
        std::string reason;  // names the limit; empty when none is broken
    };

    explicit connection_limits(const options& o)
        : handshake_(o.handshake_timeout),
          partial_(o.partial_message_timeout),
          idle_(o.idle_timeout) {}

    bool idle_limited() const noexcept { return idle_.count() >= 0; }

    // Returns: which limit `c` breaks at `now`, if any, and why it must be closed. Time we
    // spend not reading counts against no one.
    verdict breach(const connection_clock& c, connection_clock::time_point now) const {
        if (!c.greeted) {
            if (past(c.opened, handshake_, now)) {
                return {limit::handshake, "no greeting within " + ms(handshake_)};
            }
            return {};
        }
        if (!c.reading) {
            return {};
        }
        if (c.partial_bytes > 0 && past(c.partial_since, partial_, now)) {
            return {limit::partial_message, "a message begun " + std::to_string(c.partial_bytes) +
                                                " bytes ago was not complete within " +
                                                ms(partial_)};
        }
        if (past(c.last_heard, idle_, now)) {
            return {limit::idle, "nothing received for " + ms(idle_)};
        }
        return {};
    }

    // How often to look: a quarter of the shortest limit, within 10 ms to 1 s.
    milliseconds sweep_interval() const {
        milliseconds shortest{4000};
        for (milliseconds each : {handshake_, partial_, idle_}) {
            if (each.count() >= 0) {
                shortest = std::min(shortest, each);
            }
        }
        return std::clamp(shortest / 4, milliseconds{10}, milliseconds{1000});
    }

  private:
    static bool past(connection_clock::time_point since, milliseconds limit,
                     connection_clock::time_point now) {
        return limit.count() >= 0 && now - since > limit;
    }
    static std::string ms(milliseconds limit) { return std::to_string(limit.count()) + " ms"; }

    milliseconds handshake_;
    milliseconds partial_;
    milliseconds idle_;
};

}  // namespace zpat::detail
