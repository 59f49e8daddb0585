#pragma once
// The raw backend's wire format (docs/wire-format.md): a greeting each way, then messages as a
// frame count and length-prefixed frames, all integers 32-bit big-endian. Pure functions over
// bytes, so they are tested and fuzzed without sockets.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "zpat/core/message.hpp"

namespace zpat::detail::wire {

inline constexpr std::size_t greeting_size = 8;
inline constexpr std::uint8_t version = 1;
// The most frames one message may have; a count above it is refused before anything is read.
inline constexpr std::uint32_t max_frames = 1024;

enum class role : char {
    requester = 'q',
    replier = 'r',
    pusher = 'u',
    puller = 'l',
    publisher = 'p',
    subscriber = 's',
};

const char* role_name(role r);
// The role that must sit at the other end of a connection from `r`.
role peer_of(role r);

std::string greeting(role self);
// Checks the peer's greeting. Returns: an empty string when it is a `expected` peer speaking
// our version, else the reason to refuse it, naming what was wrong.
std::string check_greeting(std::string_view bytes, role expected);

// Appends the encoding of `msg` to `out`.
void encode(const message& msg, std::string& out);

// Incremental decoder: feed it the bytes of a stream in any pieces; it yields whole messages.
class decoder {
  public:
    explicit decoder(std::size_t max_message_size) : max_message_size_(max_message_size) {}

    enum class status { message_ready, need_more, error };

    // Decodes the next whole message from the front of `buffer` into `into` and sets
    // `consumed` to its encoded size. need_more: the buffer holds a valid but incomplete
    // prefix (and at most what that message can legitimately need). error: `reason()` says
    // what was wrong; the stream cannot be resynchronised.
    status next(std::string_view buffer, message& into, std::size_t& consumed);
    const std::string& reason() const noexcept { return reason_; }

  private:
    status fail(std::string reason);

    std::size_t max_message_size_;
    std::string reason_;
};

}  // namespace zpat::detail::wire
