#pragma once
// What a role's connections went through: how many it took up, and how many it closed and why.
// Counted by raw+tcp; the ZeroMQ backend reports zeros, since libzmq does not tell.

#include <cstdint>

namespace zpat {

struct connection_counts {
    std::uint64_t opened = 0;              // connections accepted or made
    std::uint64_t refused = 0;             // closed at the greeting: not zpat, or the wrong role
    std::uint64_t malformed = 0;           // closed for bytes that break the wire format
    std::uint64_t handshake_timeouts = 0;  // closed: no greeting within options::handshake_timeout
    std::uint64_t partial_timeouts = 0;    // closed: a message not complete in time
    std::uint64_t idle_timeouts = 0;       // closed: nothing received for options::idle_timeout
};

}  // namespace zpat
