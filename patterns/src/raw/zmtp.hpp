#pragma once
// ZMTP 3.1 (ZeroMQ RFC 37), the ZeroMQ wire protocol, as pure functions over bytes: the
// greeting, the NULL mechanism's READY and ERROR commands, PING and PONG, and the framing of
// messages. The first part of an engine of zpat's own that ZeroMQ peers can talk to without a
// libzmq I/O thread between the socket and the code that routes (docs/performance.md,
// "Majordomo"); tested against libzmq itself. Nothing here recurses, and every length that comes
// from the wire is checked against a limit before anything is kept for it.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "zpat/core/message.hpp"

namespace zpat::detail::zmtp {

inline constexpr std::size_t greeting_size = 64;
// The greeting's first 11 bytes: enough to tell a ZMTP 3 peer from anything else.
inline constexpr std::size_t greeting_prefix_size = 11;
// A command is at most this long: READY's properties, a PING's context, an ERROR's reason.
inline constexpr std::size_t max_command_size = std::size_t{64} * 1024;

// Our greeting: version 3.1, the NULL mechanism, and whether we take the server's part.
std::string greeting(bool as_server);
// Checks the first `bytes` of a peer's greeting (any number, up to greeting_size) as soon as
// they arrive, so that an HTTP client or an old ZMTP peer is refused at once, not after a wait.
// Returns an empty string, or the reason to refuse the peer, naming what was wrong.
std::string check_greeting(std::string_view bytes);

struct property {
    std::string name;
    std::string value;
};

// A command frame, whole: its name, and the bytes after it.
struct command {
    std::string name;
    std::string data;
};

// The encoding of a whole command frame.
std::string encode_command(std::string_view name, std::string_view data);
// READY's data: each property a one-byte name length, the name, a four-byte big-endian value
// length and the value.
std::string encode_properties(std::span<const property> properties);
// The properties in READY's data. `reason` is left empty, or says what was wrong (the
// properties are then none). Lengths are checked against the data, which is bounded by
// max_command_size.
std::vector<property> parse_properties(std::string_view data, std::string& reason);
// ERROR's data: a one-byte length and the reason.
std::string error_data(std::string_view reason);

// Whether `msg` is a subscription as a ZMTP 3.0 subscriber sends it (and SUBSCRIBE or CANCEL
// reach an XPUB's user): one frame, 0x01 (subscribe) or 0x00 (unsubscribe), then the prefix.
inline bool is_subscription(const message& msg) {
    return msg.size() == 1 && !msg[0].empty() && (msg[0][0] == '\x01' || msg[0][0] == '\x00');
}

// Appends the encoding of `msg` from frame `first` on, every frame but the last flagged MORE
// (the last too when `more_follows`: frames of the same message come after), to `out`.
void encode(const message& msg, std::string& out, std::size_t first = 0, bool more_follows = false);

// Decoder of one connection's bytes: the next message or command from the front of a buffer
// that may hold more, or an incomplete one. A message over max_message_size bytes or
// max_message_frames frames is dropped (its frames never copied); one whose encoding, headers
// counted, passes twice max_message_size and 9 bytes for each of twice max_message_frames is an
// error, so what a connection buffers for one message is bounded.
class decoder {
  public:
    explicit decoder(std::size_t max_message_size, std::size_t max_message_frames);

    enum class status { message_ready, message_dropped, command_ready, need_more, error };

    // Decodes what is at the front of `buffer`: a whole message into `msg`, or a whole command
    // into `cmd`, and sets `consumed` to its encoded size (message_dropped: the size skipped).
    // need_more: the buffer holds a valid prefix, checked as far as it goes; the next call must
    // pass the same bytes with more after them, and the headers checked already are not read
    // again (reset() forgets them, for other bytes). error: reason() says what was wrong; the
    // stream cannot be resynchronised.
    status next(std::string_view buffer, message& msg, command& cmd, std::size_t& consumed);
    // Instead of next(), for bytes that stay encoded: how many whole messages within the limits
    // are at the front of `buffer`, and their bytes, every header checked as next() checks it.
    // message_ready: `found` holds at least one, and stops before anything else. Otherwise
    // `found` is empty and the status says what is at the front: need_more (a message not
    // whole yet), command_ready (a command's header: next() takes the command once it is whole)
    // or message_dropped (next() skips it), or error (reason()).
    // As with next(), the headers of an unfinished message are read once: the next call (of
    // either) must pass the bytes after those found, with more after them.
    struct scanned {
        std::size_t bytes = 0;
        std::size_t messages = 0;
    };
    status scan(std::string_view buffer, scanned& found);
    void reset() noexcept { progress_ = {}; }
    const std::string& reason() const noexcept { return reason_; }

  private:
    // How far the message at the front of a buffer has been checked: its whole frames.
    struct progress {
        std::size_t at = 0;
        std::size_t frames = 0;
        std::size_t total = 0;  // of their bodies
        bool whole = false;     // the last frame is among them
    };
    // Checks the frames of the message at the front of `buffer` from where `p` stands on.
    // message_ready: `p` covers the whole message (maybe over the limits that drop it);
    // command_ready: a command frame is at the front; need_more: `p` covers the whole frames
    // that have arrived; error: reason() says what was wrong.
    status walk(std::string_view buffer, progress& p);
    // The command whose `header`-byte header, at the front of `buffer`, says `size` bytes.
    status take_command(std::string_view buffer, std::size_t header, std::uint64_t size,
                        command& cmd, std::size_t& consumed);
    // The message whose `at` bytes at the front of `buffer` the walk has found whole.
    status take_message(std::string_view buffer, message& msg, std::size_t& consumed);
    bool within_limits(const progress& p) const noexcept {
        return p.frames <= max_message_frames_ && p.total <= max_message_size_;
    }
    status fail(std::string reason);

    std::size_t max_message_size_;
    std::size_t max_message_frames_;
    std::size_t max_encoded_;  // the error limit: a message's bytes with their headers
    progress progress_;        // next()'s, across calls
    std::string reason_;
};

// One whole message as ZMTP frames it, read in place from bytes a decoder has checked (scan()):
// nothing is copied. Inline, with no bounds checks, as wire::encoded_message, whose members
// these are.
struct encoded_message {
    static constexpr std::size_t first_frame_at = 0;  // where frame() starts

    // The message at the front of `bytes`, which must hold it whole, checked.
    static encoded_message at(std::string_view bytes) noexcept {
        encoded_message m;
        std::size_t at = 0;
        bool more = true;
        while (more) {
            more = (static_cast<std::uint8_t>(bytes[at]) & 0x01U) != 0;
            const std::string_view frame = frame_at(bytes, at);
            if (m.frames == 0) {
                m.first_frame = frame;
            }
            ++m.frames;
            m.payload += frame.size();
        }
        m.bytes = bytes.substr(0, at);
        return m;
    }
    // The frame whose header is at `at` (first_frame_at for the first), moving `at` to the next.
    std::string_view frame(std::size_t& at) const noexcept { return frame_at(bytes, at); }
    static std::string_view frame_at(std::string_view bytes, std::size_t& at) noexcept {
        const char* const header = bytes.data() + at;
        std::size_t size = static_cast<std::uint8_t>(header[1]);
        std::size_t length = 2;
        if ((static_cast<std::uint8_t>(header[0]) & 0x02U) != 0) {  // a long frame
            std::uint64_t v = 0;
            std::memcpy(&v, header + 1, sizeof v);
            size = std::endian::native == std::endian::little ? __builtin_bswap64(v) : v;
            length = 9;
        }
        at += length + size;
        return {header + length, size};
    }

    std::string_view bytes;        // the whole encoding
    std::string_view first_frame;  // a topic, for pub-sub
    std::size_t frames = 0;
    std::size_t payload = 0;  // the frames' bytes together, as message::byte_size() counts
};

}  // namespace zpat::detail::zmtp
