#pragma once
// What a role's connections went through: how many it took up, and how many it closed and why.
// raw+tcp counts every field; ZeroMQ counts what libzmq's socket monitor tells (opened, closed,
// handshake_timeouts, and the protocol failures it reports as refused or malformed) on tcp:// and
// ipc:// endpoints, and closes a peer of the wrong socket type or one sending a frame over
// options::max_message_size without a reason (closed only). A raw+udp publisher has no
// connections but counts its subscribers the same way: opened when one is taken (its address
// proven by a cookie), closed when it leaves or goes silent, refused for a datagram carrying a
// cookie not made for its address, over_limits for a subscription past a limit.

#include <cstdint>

namespace zpat {

struct connection_counts {
    std::uint64_t opened = 0;              // connections accepted or made
    std::uint64_t closed = 0;              // connections that ended, for any reason
    std::uint64_t refused = 0;             // closed at the greeting: not zpat, or the wrong role
    std::uint64_t malformed = 0;           // closed for bytes that break the wire format
    std::uint64_t handshake_timeouts = 0;  // closed: no greeting within options::handshake_timeout
    std::uint64_t partial_timeouts = 0;    // closed: a message not complete in time
    std::uint64_t idle_timeouts = 0;       // closed: nothing received for options::idle_timeout
    std::uint64_t over_limits = 0;  // closed: past a limit on what a peer may make a role hold
};

// Adds `more` to `counts`: the connections of several sockets, or of several roles, together.
inline connection_counts& operator+=(connection_counts& counts, const connection_counts& more) {
    counts.opened += more.opened;
    counts.closed += more.closed;
    counts.refused += more.refused;
    counts.malformed += more.malformed;
    counts.handshake_timeouts += more.handshake_timeouts;
    counts.partial_timeouts += more.partial_timeouts;
    counts.idle_timeouts += more.idle_timeouts;
    counts.over_limits += more.over_limits;
    return counts;
}

}  // namespace zpat
