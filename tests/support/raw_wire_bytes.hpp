#pragma once
// The raw wire format's bytes written by hand (docs/wire-format.md), for tests that play a peer
// zpat would never be.

#include <cstdint>
#include <string>

namespace zpat::testing {

// A u32 as the wire carries it: big-endian.
inline std::string u32(std::uint32_t v) {
    return {static_cast<char>(v >> 24U), static_cast<char>(v >> 16U), static_cast<char>(v >> 8U),
            static_cast<char>(v)};
}

// The 8-byte greeting of a peer in the role named by its letter ('u' pusher, 's' subscriber...).
inline std::string greeting_of(char role) {
    return std::string("ZPAT\x01", 5) + role + std::string(2, '\0');
}

inline const std::string pusher_greeting = greeting_of('u');
inline const std::string subscriber_greeting = greeting_of('s');
inline const std::string publisher_greeting = greeting_of('p');

}  // namespace zpat::testing
