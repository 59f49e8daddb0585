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

    explicit connection_limits(const options& o)
        : handshake_(o.handshake_timeout),
          partial_(o.partial_message_timeout),
          idle_(o.idle_timeout) {}

    bool idle_limited() const noexcept { return idle_.count() >= 0; }

    // Returns: empty when `c` is within every limit at `now`, else why it must be closed, with
    // the limit named. Time we spend not reading counts against no one.
    std::string breach(const connection_clock& c, connection_clock::time_point now) const {
        if (!c.greeted) {
            return past(c.opened, handshake_, now) ? "no greeting within " + ms(handshake_)
                                                   : std::string();
        }
        if (!c.reading) {
            return {};
        }
        if (c.partial_bytes > 0 && past(c.partial_since, partial_, now)) {
            return "a message begun " + std::to_string(c.partial_bytes) +
                   " bytes ago was not complete within " + ms(partial_);
        }
        if (past(c.last_heard, idle_, now)) {
            return "nothing received for " + ms(idle_);
        }
        return {};
    }

    // How often to look: a quarter of the shortest limit, within 10 ms to 1 s.
    milliseconds sweep_interval() const {
        milliseconds shortest{4000};
        for (milliseconds limit : {handshake_, partial_, idle_}) {
            if (limit.count() >= 0) {
                shortest = std::min(shortest, limit);
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
