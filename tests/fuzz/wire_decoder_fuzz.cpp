// libFuzzer target for the raw wire decoders, with an oracle for both directions:
// - any bytes (first byte even): the decoder never crashes, hangs or over-reads; whatever it
//   accepts is within its limits, re-encodes to exactly the bytes it consumed, and every shorter
//   prefix of those bytes is "need more", never a message or an error;
// - generated messages (first byte odd): the input describes a list of messages, which are
//   encoded back to back and decoded, whole or cut in two pieces; each one within the limits
//   must come back equal, and the first one beyond the size limit must be refused. The limit is
//   small, so the fuzzer reaches it at once.
// In both, the stream decoder (what a raw connection uses) is fed the same bytes in pieces of a
// size the input picks, and must yield exactly the messages the whole-buffer decoder yields,
// and fail where it fails; and scan() (what a raw xsubscriber's connection uses, messages kept
// encoded) must find the same messages, read in place to the same frames, and fail there too.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "wire.hpp"

namespace {

using zpat::message;
using zpat::detail::wire::decoder;
using zpat::detail::wire::max_frames;
using zpat::detail::wire::stream_decoder;

constexpr std::size_t any_bytes_limit = 256;
constexpr std::size_t generated_limit = 64;

void require(bool condition) {
    if (!condition) {
        std::abort();
    }
}

std::string encoded(const message& msg) {
    std::string out;
    zpat::detail::wire::encode(msg, out);
    return out;
}

std::size_t total_size(const message& msg) {
    std::size_t total = 0;
    for (const std::string& frame : msg) {
        total += frame.size();
    }
    return total;
}

// What the whole-buffer decoder makes of `stream`: its messages, and whether it stopped at an
// error (rather than at an incomplete or absent message).
struct decoded {
    std::vector<message> messages;
    bool failed = false;
};

decoded whole_buffer(std::string_view stream, std::size_t limit) {
    decoded out;
    decoder d(limit);
    for (;;) {
        message msg;
        std::size_t used = 0;
        const auto status = d.next(stream, msg, used);
        if (status != decoder::status::message_ready) {
            out.failed = status == decoder::status::error;
            return out;
        }
        out.messages.push_back(std::move(msg));
        stream.remove_prefix(used);
    }
}

// The stream decoder must agree with the whole-buffer one, whatever the pieces.
void stream_agrees(std::string_view stream, std::size_t limit, std::size_t piece) {
    const decoded expected = whole_buffer(stream, limit);
    decoded got;
    stream_decoder d(limit);
    message building;
    while (!stream.empty() && !got.failed) {
        std::string_view input = stream.substr(0, piece);
        stream.remove_prefix(input.size());
        for (;;) {
            const auto status = d.feed(input, building);
            if (status == stream_decoder::status::error) {
                got.failed = true;
                break;
            }
            if (status == stream_decoder::status::need_more) {
                require(input.empty());
                break;
            }
            got.messages.push_back(building);
        }
    }
    require(got.failed == expected.failed);
    require(got.messages == expected.messages);
}

// scan() must find what the whole-buffer decoder decodes, and encoded_message read each in place.
void scan_agrees(std::string_view stream, std::size_t limit) {
    const decoded expected = whole_buffer(stream, limit);
    decoder d(limit);
    decoder::scanned found;
    const auto status = d.scan(stream, found);
    require((status == decoder::status::error) == expected.failed);
    require(found.messages == expected.messages.size());
    std::string_view rest = stream.substr(0, found.bytes);
    for (const message& msg : expected.messages) {
        const auto m = zpat::detail::wire::encoded_message::at(rest);
        require(m.bytes == encoded(msg));
        require(m.frames == msg.size() && m.payload == total_size(msg));
        require(m.first_frame == msg[0]);
        std::size_t at = 4;
        for (const std::string& frame : msg) {
            require(m.frame(at) == frame);
        }
        rest.remove_prefix(m.bytes.size());
    }
    require(rest.empty());
}

void any_bytes(std::string_view rest) {
    decoder d(any_bytes_limit);
    message msg;
    while (!rest.empty()) {
        std::size_t used = 0;
        if (d.next(rest, msg, used) != decoder::status::message_ready) {
            break;
        }
        require(msg.size() >= 1 && msg.size() <= max_frames);
        require(total_size(msg) <= any_bytes_limit);
        require(encoded(msg) == rest.substr(0, used));
        for (std::size_t cut = 0; cut < used; cut += 1 + used / 16) {
            std::size_t ignored = 0;
            message partial;
            require(d.next(rest.substr(0, cut), partial, ignored) == decoder::status::need_more);
        }
        rest.remove_prefix(used);
    }
}

// Reads the input as a list of up to 8 messages: per message a byte of frame count (1 to 8),
// then per frame a byte of length (0 to 47) and that many bytes of content (from the input,
// padded). The frame count limit is held by wire_test: reaching it here would cost 1024 frames
// a run.
std::vector<message> messages_from(std::string_view in) {
    std::vector<message> out;
    std::size_t at = 0;
    const auto next_byte = [&]() -> std::uint8_t {
        return at < in.size() ? static_cast<std::uint8_t>(in[at++]) : 0;
    };
    while (at < in.size() && out.size() < 8) {
        const std::size_t frames = 1U + (next_byte() & 7U);
        message msg;
        for (std::size_t i = 0; i < frames; ++i) {
            const std::size_t length = next_byte() % 48U;
            std::string frame = std::string(in.substr(std::min(at, in.size()), length));
            frame.resize(length, 'x');
            at += length;
            msg.push_back(std::move(frame));
        }
        out.push_back(std::move(msg));
    }
    return out;
}

bool within_limits(const message& msg) {
    return total_size(msg) <= generated_limit;
}

void generated(std::string_view in, std::size_t cut_hint) {
    const std::vector<message> sent = messages_from(in);
    std::string stream;
    for (const message& msg : sent) {
        stream += encoded(msg);
    }
    decoder d(generated_limit);
    std::size_t at = 0;
    for (const message& expected : sent) {
        const std::string_view rest = std::string_view(stream).substr(at);
        const std::size_t size = encoded(expected).size();
        message got;
        std::size_t used = 0;
        if (!within_limits(expected)) {
            require(d.next(rest, got, used) == decoder::status::error);
            require(!d.reason().empty());
            return;  // a stream cannot be resynchronised after a refusal
        }
        // Cut somewhere inside this message: the first piece is not enough, the whole is.
        const std::size_t cut = cut_hint % size;
        require(d.next(rest.substr(0, cut), got, used) == decoder::status::need_more);
        require(d.next(rest, got, used) == decoder::status::message_ready);
        require(used == size);
        require(got == expected);
        at += used;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    const std::size_t piece = 1U + (in.empty() ? 0U : static_cast<std::uint8_t>(in[0]) >> 1U);
    if (in.size() < 2 || (static_cast<std::uint8_t>(in[0]) & 1U) == 0) {
        any_bytes(in.substr(std::min<std::size_t>(1, in.size())));
        stream_agrees(in.substr(std::min<std::size_t>(1, in.size())), any_bytes_limit, piece);
        scan_agrees(in.substr(std::min<std::size_t>(1, in.size())), any_bytes_limit);
    } else {
        generated(in.substr(2), static_cast<std::uint8_t>(in[1]));
        std::string stream;
        for (const message& msg : messages_from(in.substr(2))) {
            stream += encoded(msg);
        }
        stream_agrees(stream, generated_limit, piece);
        scan_agrees(stream, generated_limit);
    }
    return 0;
}
