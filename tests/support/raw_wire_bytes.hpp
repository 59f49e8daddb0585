#pragma once
// The raw wire format's bytes written by hand (docs/wire-format.md), for tests that play a peer
// zpat would never be.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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

// A u64 as the wire carries it: big-endian.
inline std::string u64(std::uint64_t v) {
    return u32(static_cast<std::uint32_t>(v >> 32U)) + u32(static_cast<std::uint32_t>(v));
}
inline std::uint64_t read_u64(const std::string& bytes, std::size_t at) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 8; ++i) {
        v = (v << 8U) | static_cast<unsigned char>(bytes.at(at + i));
    }
    return v;
}

// A message in the wire format (section 2): the frame count, then each frame with its length.
inline std::string message_bytes(const std::vector<std::string>& frames) {
    std::string out = u32(static_cast<std::uint32_t>(frames.size()));
    for (const auto& frame : frames) {
        out += u32(static_cast<std::uint32_t>(frame.size())) + frame;
    }
    return out;
}

// A raw+udp datagram (section 5) from the role named by its letter, of a kind ('Q', 'S', ...),
// with an id, a body when it has frames, and the cookie it echoes, if any.
inline std::string udp_datagram(char role, char kind, std::uint64_t id,
                                const std::vector<std::string>& frames,
                                std::optional<std::uint64_t> cookie = std::nullopt) {
    std::string out = std::string("ZPAT\x01", 5) + role + kind + (cookie ? '\x01' : '\0') + u64(id);
    if (cookie) {
        out += u64(*cookie);
    }
    return frames.empty() ? out : out + message_bytes(frames);
}

inline const std::string pusher_greeting = greeting_of('u');
inline const std::string subscriber_greeting = greeting_of('s');
inline const std::string publisher_greeting = greeting_of('p');

}  // namespace zpat::testing
