// libFuzzer target for zpat's ZMTP 3.1 functions (patterns/src/raw/zmtp.hpp), with an oracle:
// - the greeting check takes any bytes, and takes none of them once it has refused a prefix;
// - the decoder, over any bytes, never crashes, hangs or over-reads; what it accepts is within
//   its limits (what it drops is skipped whole), every shorter prefix of it is "need more", and a
//   message re-encodes to exactly the bytes it consumed when they used the short form wherever a
//   frame allows it; its scan, fed in pieces, finds in place the messages it decodes;
// - READY's properties, parsed from any command's data, re-encode to that data when accepted;
// - messages described by the input, encoded back to back, decode to themselves;
// - a connection takes any bytes, whole or in pieces of a size the input picks, to the same
//   messages and the same end (open, or closed for the same reason).

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "zmtp.hpp"
#include "zmtp_connection.hpp"

namespace {

namespace zmtp = zpat::detail::zmtp;
using zpat::message;

constexpr std::size_t size_limit = 512;
constexpr std::size_t frames_limit = 16;

void require(bool condition) {
    if (!condition) {
        std::abort();
    }
}

void greeting_checks(std::string_view in) {
    bool refused = false;
    for (std::size_t n = 0; n <= std::min(in.size(), zmtp::greeting_size); ++n) {
        const bool refuses = !zmtp::check_greeting(in.substr(0, n)).empty();
        require(refuses || !refused);  // once refused, more bytes cannot make it right
        refused = refuses;
    }
}

void any_bytes(std::string_view rest) {
    zmtp::decoder d(size_limit, frames_limit);
    for (;;) {
        message msg;
        zmtp::command cmd;
        std::size_t used = 0;
        const auto status = d.next(rest, msg, cmd, used);
        if (status == zmtp::decoder::status::need_more || status == zmtp::decoder::status::error) {
            require(status == zmtp::decoder::status::need_more || !d.reason().empty());
            return;
        }
        require(used > 0 && used <= rest.size());
        for (std::size_t cut = 0; cut < used; cut += 1 + used / 16) {
            zmtp::decoder fresh(size_limit, frames_limit);
            message partial;
            zmtp::command partial_cmd;
            std::size_t ignored = 0;
            require(fresh.next(rest.substr(0, cut), partial, partial_cmd, ignored) ==
                    zmtp::decoder::status::need_more);
        }
        const std::string_view bytes = rest.substr(0, used);
        if (status == zmtp::decoder::status::message_dropped) {
            rest.remove_prefix(used);
            continue;
        }
        if (status == zmtp::decoder::status::message_ready) {
            require(msg.size() >= 1 && msg.size() <= frames_limit && msg.byte_size() <= size_limit);
            std::string again;
            zmtp::encode(msg, again);
            require(again.size() <= bytes.size());
            require(again.size() < bytes.size() || again == bytes);
        } else {
            require(cmd.name.size() >= 1 && cmd.name.size() <= 255);
            const std::string again = zmtp::encode_command(cmd.name, cmd.data);
            require(again.size() < bytes.size() || again == bytes);
            std::string reason;
            const auto props = zmtp::parse_properties(cmd.data, reason);
            if (reason.empty()) {
                require(zmtp::encode_properties(props) == cmd.data);
            } else {
                require(props.empty());
            }
        }
        rest.remove_prefix(used);
    }
}

// scan() over any bytes, in pieces: it finds, in place, the messages next() decodes, and stops
// where next() would return anything else (which next() then takes, as a connection does).
void scan_agrees(std::string_view in, std::size_t piece) {
    zmtp::decoder one_by_one(size_limit, frames_limit);
    zmtp::decoder scanning(size_limit, frames_limit);
    std::size_t from = 0;  // what both have taken: their bytes start here, end at `arrived`
    for (std::size_t arrived = std::min(piece, in.size());;
         arrived = std::min(arrived + piece, in.size())) {
        for (;;) {
            const std::string_view bytes = in.substr(from, arrived - from);
            zmtp::decoder::scanned found;
            const auto status = scanning.scan(bytes, found);
            message msg;
            zmtp::command cmd;
            std::size_t used = 0;
            if (status == zmtp::decoder::status::message_ready) {
                require(found.messages > 0 && found.bytes <= bytes.size());
                std::string_view encoded = bytes.substr(0, found.bytes);
                std::string_view rest = bytes;
                for (std::size_t i = 0; i < found.messages; ++i) {
                    require(one_by_one.next(rest, msg, cmd, used) ==
                            zmtp::decoder::status::message_ready);
                    const auto m = zmtp::encoded_message::at(encoded);
                    require(m.bytes == rest.substr(0, used) && m.frames == msg.size());
                    std::size_t at = zmtp::encoded_message::first_frame_at;
                    for (std::size_t f = 0; f < m.frames; ++f) {
                        require(m.frame(at) == msg[f]);
                    }
                    encoded.remove_prefix(used);
                    rest.remove_prefix(used);
                }
                require(encoded.empty());
                from += found.bytes;
                continue;
            }
            require(found.messages == 0);
            if (status == zmtp::decoder::status::need_more) {
                break;
            }
            // A command's header says one is at the front; its body may not be whole yet.
            const auto got = scanning.next(bytes, msg, cmd, used);
            require(got == status || (status == zmtp::decoder::status::command_ready &&
                                      (got == zmtp::decoder::status::need_more ||
                                       got == zmtp::decoder::status::error)));
            zmtp::command cmd_again;
            std::size_t used_again = 0;
            require(one_by_one.next(bytes, msg, cmd_again, used_again) == got);
            if (got == zmtp::decoder::status::need_more) {
                break;
            }
            if (got == zmtp::decoder::status::error) {
                return;
            }
            require(used_again == used);
            from += used;
        }
        if (arrived == in.size()) {
            return;
        }
    }
}

// Up to 8 messages: per message a byte of frame count (1 to 4), then per frame two bytes of
// length (0 to 299, so long frames come up) and that many bytes of content, padded.
std::vector<message> messages_from(std::string_view in) {
    std::vector<message> out;
    std::size_t at = 0;
    const auto next_byte = [&]() -> std::size_t {
        return at < in.size() ? static_cast<std::uint8_t>(in[at++]) : 0;
    };
    while (at < in.size() && out.size() < 8) {
        const std::size_t frames = 1U + (next_byte() & 3U);
        message msg;
        for (std::size_t i = 0; i < frames; ++i) {
            const std::size_t length = ((next_byte() << 8U) | next_byte()) % 300U;
            std::string frame(in.substr(std::min(at, in.size()), length));
            frame.resize(length, 'x');
            at += length;
            msg.push_back(std::move(frame));
        }
        out.push_back(std::move(msg));
    }
    return out;
}

void generated(std::string_view in) {
    const std::vector<message> sent = messages_from(in);
    std::string stream;
    for (const message& msg : sent) {
        zmtp::encode(msg, stream);
    }
    scan_agrees(stream, 1 + stream.size() / 3);  // messages over the limits come up here
    zmtp::decoder d(size_limit, frames_limit);
    std::string_view rest = stream;
    for (const message& expected : sent) {
        message got;
        zmtp::command cmd;
        std::size_t used = 0;
        const auto status = d.next(rest, got, cmd, used);
        if (expected.byte_size() > size_limit || expected.size() > frames_limit) {
            // Dropped whole, or past twice the limits an error, after which the stream ends.
            require(status == zmtp::decoder::status::message_dropped ||
                    status == zmtp::decoder::status::error);
            if (status == zmtp::decoder::status::error) {
                return;
            }
            rest.remove_prefix(used);
            continue;
        }
        require(status == zmtp::decoder::status::message_ready);
        require(got == expected);
        rest.remove_prefix(used);
    }
    require(rest.empty());
}

struct outcome {
    std::vector<message> messages;
    bool open = true;
    std::string reason;
};

outcome through_connection(std::string_view bytes, std::size_t piece) {
    static constexpr std::array<std::string_view, 2> peers{"DEALER", "REQ"};
    zmtp::connection c({"ROUTER", peers, size_limit, frames_limit});
    outcome out;
    while (!bytes.empty() && out.open) {
        const std::string_view input = bytes.substr(0, piece);
        bytes.remove_prefix(input.size());
        out.open = c.take(input, [&](message& m) { out.messages.push_back(m); });
        require(c.outgoing().size() < 64 + 17 * 4096);  // what it queues is bounded by the input
        c.outgoing().clear();
    }
    require(out.open != c.closed());
    out.reason = c.reason();
    return out;
}

void connection_agrees(std::string_view bytes, std::size_t piece) {
    const outcome whole = through_connection(bytes, bytes.size() + 1);
    const outcome pieces = through_connection(bytes, piece);
    require(whole.open == pieces.open && whole.reason == pieces.reason);
    require(whole.messages == pieces.messages);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    if (in.empty()) {
        return 0;
    }
    if ((static_cast<std::uint8_t>(in[0]) & 1U) == 0) {
        greeting_checks(in.substr(1));
        any_bytes(in.substr(1));
        // As a connection sees them: after a valid greeting and READY, or as they are.
        const std::size_t piece = 1U + (static_cast<std::uint8_t>(in[0]) >> 1U);
        connection_agrees(in.substr(1), piece);
        scan_agrees(in.substr(1), piece);
        const std::array<zmtp::property, 1> dealer{{{"Socket-Type", "DEALER"}}};
        const std::string opened = zmtp::greeting(false) +
                                   zmtp::encode_command("READY", zmtp::encode_properties(dealer)) +
                                   std::string(in.substr(1));
        connection_agrees(opened, piece);
    } else {
        generated(in.substr(1));
    }
    return 0;
}
