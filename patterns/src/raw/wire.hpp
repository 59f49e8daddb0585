#pragma once
// The raw backend's wire format (docs/wire-format.md): a greeting each way, then messages as a
// frame count and length-prefixed frames, all integers 32-bit big-endian. Pure functions over
// bytes, so they are tested and fuzzed without sockets.

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
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

// The 32-bit big-endian bytes of `value`, as every count and length goes on the wire.
inline std::array<char, 4> u32_bytes(std::size_t value) {
    const auto v = static_cast<std::uint32_t>(value);
    return {static_cast<char>(v >> 24U), static_cast<char>(v >> 16U), static_cast<char>(v >> 8U),
            static_cast<char>(v)};
}

// Appends the encoding of `msg` to `out`.
void encode(const message& msg, std::string& out);

// Whole-buffer decoder: the next message from the front of a buffer that may hold more (a
// datagram, a test's bytes).
class decoder {
  public:
    // Limits: bytes and frames in one message (the frames at most max_frames).
    explicit decoder(std::size_t max_message_size, std::size_t max_message_frames = max_frames)
        : max_message_size_(max_message_size), max_message_frames_(max_message_frames) {}

    enum class status { message_ready, need_more, error };

    // Decodes the next whole message from the front of `buffer` into `into` and sets
    // `consumed` to its encoded size. need_more: the buffer holds a valid but incomplete
    // prefix (and at most what that message can legitimately need). error: `reason()` says
    // what was wrong; the stream cannot be resynchronised.
    status next(std::string_view buffer, message& into, std::size_t& consumed);
    // As next(), without copying: sets `consumed` to the size of the whole message at the
    // front of `buffer`.
    status measure(std::string_view buffer, std::size_t& consumed);
    // The whole messages at the front of `buffer`, every header after them that has arrived
    // checked too. message_ready: `found` holds at least one; need_more: none is whole yet;
    // error: `reason()` says what was wrong (`found` still counts the whole ones before it).
    struct scanned {
        std::size_t bytes = 0;
        std::size_t messages = 0;
    };
    status scan(std::string_view buffer, scanned& found);
    const std::string& reason() const noexcept { return reason_; }

  private:
    status fail(std::string reason);

    std::size_t max_message_size_;
    std::size_t max_message_frames_;
    std::string reason_;
};

// One whole message as the wire has it, read in place from bytes a decoder has checked
// (measure() or scan()): nothing is copied.
// Inline, with no bounds checks: the pass-through reads every message forwarded this way, and
// the bytes were checked as they arrived.
struct encoded_message {
    static constexpr std::size_t first_frame_at = 4;  // where frame() starts, after the count

    // The message at the front of `bytes`, which must hold it whole, checked.
    static encoded_message at(std::string_view bytes) noexcept {
        encoded_message m;
        const char* const base = bytes.data();
        m.frames = load_u32(base);
        const std::uint32_t first = load_u32(base + 4);
        m.first_frame = {base + 8, first};
        m.payload = first;
        std::size_t at = 8 + std::size_t{first};
        for (std::size_t i = 1; i < m.frames; ++i) {
            const std::uint32_t length = load_u32(base + at);
            m.payload += length;
            at += 4 + std::size_t{length};
        }
        m.bytes = {base, at};
        return m;
    }
    // The frame whose length header is at `at` (first_frame_at for the first), moving `at` to
    // the next.
    std::string_view frame(std::size_t& at) const noexcept {
        const std::uint32_t length = load_u32(bytes.data() + at);
        const std::string_view frame{bytes.data() + at + 4, length};
        at += 4 + std::size_t{length};
        return frame;
    }
    static std::uint32_t load_u32(const char* p) noexcept {
        std::uint32_t v = 0;
        std::memcpy(&v, p, sizeof v);
        return std::endian::native == std::endian::little ? __builtin_bswap32(v) : v;
    }

    std::string_view bytes;        // the whole encoding
    std::string_view first_frame;  // a topic, for pub-sub
    std::size_t frames = 0;
    std::size_t payload = 0;  // the frames' bytes together, as message::byte_size() counts
};

// Stream decoder: one connection's bytes as they come, in any pieces. Each frame's bytes are
// copied once, from the read straight into the message being built; only a header split
// between reads waits in the decoder (at most 4 bytes). Every length is checked against the
// limits as its header arrives, and a frame's storage grows with the bytes that have arrived
// (all at once only for a frame of at most eager_bytes), so a peer that declares a large message
// and sends little holds little.
class stream_decoder {
  public:
    static constexpr std::size_t eager_bytes = std::size_t{256} * 1024;

    explicit stream_decoder(std::size_t max_message_size,
                            std::size_t max_message_frames = max_frames)
        : max_message_size_(max_message_size),
          max_message_frames_(max_message_frames),
          whole_(max_message_size, max_message_frames) {}

    enum class status { message_ready, need_more, error };

    // Takes bytes from the front of `input` (which loses them) into `into`, the message being
    // built, which must be left alone between calls until message_ready. message_ready: `into`
    // is whole, and `input` holds what follows it. need_more: `input` is used up. error:
    // `reason()` says what was wrong; the stream cannot be resynchronised.
    status feed(std::string_view& input, message& into);
    // Some bytes of a message have arrived and it is not whole yet.
    bool mid_message() const noexcept { return state_ != state::count || header_have_ > 0; }
    // Instead of feed(), for a connection whose messages stay encoded: the whole messages at
    // the front of `input` (decoder::scan()). Returns false for an error: `reason()` says what.
    bool check(std::string_view input, decoder::scanned& found) {
        if (whole_.scan(input, found) != decoder::status::error) {
            return true;
        }
        reason_ = whole_.reason();
        return false;
    }
    // Bytes of the unfinished message taken so far.
    std::size_t partial_bytes() const noexcept { return partial_bytes_; }
    const std::string& reason() const noexcept { return reason_; }
    // Forgets any unfinished message: a new connection starts.
    void reset() noexcept;

  private:
    enum class state { count, length, body };

    // Gathers a 4-byte header from `input`. Returns it once whole.
    std::optional<std::uint32_t> header(std::string_view& input);
    status fail(std::string reason);
    // At a message's start: decodes it at once if all of it is in `input`; nullopt otherwise.
    std::optional<status> whole_message(std::string_view& input, message& into);
    // A frame's length header arrived: checks it and makes room for its bytes.
    bool begin_frame(std::uint32_t length, message& into);

    std::size_t max_message_size_;
    std::size_t max_message_frames_;
    decoder whole_;  // the fast path: a message whose bytes are all in one read
    state state_ = state::count;
    std::array<char, 4> header_{};
    std::size_t header_have_ = 0;
    std::uint32_t frames_ = 0;  // in the message being built
    std::uint32_t frame_ = 0;   // the one being filled
    std::size_t length_ = 0;    // its declared length
    std::size_t total_ = 0;     // declared lengths so far
    std::size_t partial_bytes_ = 0;
    std::string reason_;
};

}  // namespace zpat::detail::wire
