#include "zmtp.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <optional>
#include <utility>

namespace zpat::detail::zmtp {
namespace {

constexpr std::uint8_t flag_more = 0x01;
constexpr std::uint8_t flag_long = 0x02;
constexpr std::uint8_t flag_command = 0x04;
constexpr std::uint8_t flags_reserved = 0xF8;

constexpr std::size_t mechanism_at = 12;
constexpr std::size_t mechanism_size = 20;
constexpr std::string_view null_mechanism = "NULL";

std::uint8_t byte_at(std::string_view bytes, std::size_t at) {
    return static_cast<std::uint8_t>(bytes[at]);
}

std::size_t doubled(std::size_t limit) {
    return limit > SIZE_MAX / 2 ? SIZE_MAX : limit * 2;
}

std::size_t saturating_add(std::size_t a, std::size_t b) {
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

std::string hex_byte(std::uint8_t b) {
    std::array<char, 5> out{};
    std::snprintf(out.data(), out.size(), "0x%02X", b);
    return out.data();
}

std::uint64_t load_be(std::string_view bytes, std::size_t at, std::size_t width) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < width; ++i) {
        v = (v << 8U) | byte_at(bytes, at + i);
    }
    return v;
}

void append_be(std::string& out, std::uint64_t value, std::size_t width) {
    for (std::size_t i = width; i-- > 0;) {
        out += static_cast<char>((value >> (8 * i)) & 0xFFU);
    }
}

void append_frame(std::string& out, std::uint8_t flags, std::string_view body) {
    if (body.size() > 255) {
        out += static_cast<char>(flags | flag_long);
        append_be(out, body.size(), 8);
    } else {
        out += static_cast<char>(flags);
        out += static_cast<char>(body.size());
    }
    out.append(body);
}

// The text of the mechanism field, for a reason: printable bytes up to the first zero.
std::string mechanism_text(std::string_view field) {
    std::string out;
    for (const char c : field.substr(0, field.find('\0'))) {
        out += c >= 0x20 && c < 0x7F ? c : '?';
    }
    return out;
}

}  // namespace

std::string greeting(bool as_server) {
    std::string out(greeting_size, '\0');
    out[0] = static_cast<char>(0xFF);
    out[9] = 0x7F;
    out[10] = 3;
    out[11] = 1;
    out.replace(mechanism_at, null_mechanism.size(), null_mechanism);
    out[32] = as_server ? 1 : 0;
    return out;
}

std::string check_greeting(std::string_view bytes) {
    if (!bytes.empty() && byte_at(bytes, 0) != 0xFF) {
        return "not a ZMTP peer: its first byte is " + hex_byte(byte_at(bytes, 0)) +
               ", where a ZMTP greeting starts with 0xFF";
    }
    if (bytes.size() > 9 && (byte_at(bytes, 9) & 0x01U) == 0) {
        return "a ZMTP 1.0 peer: only ZMTP 3 is spoken here";
    }
    if (bytes.size() > 10 && byte_at(bytes, 10) < 3) {
        return "a ZMTP " + std::to_string(byte_at(bytes, 10)) +
               ".x peer: only ZMTP 3 is spoken here";
    }
    if (bytes.size() >= mechanism_at + mechanism_size) {
        const std::string_view field = bytes.substr(mechanism_at, mechanism_size);
        const bool null = field.starts_with(null_mechanism) &&
                          std::all_of(field.begin() + null_mechanism.size(), field.end(),
                                      [](char c) { return c == '\0'; });
        if (!null) {
            return "the peer's security mechanism '" + mechanism_text(field) +
                   "' is not the NULL this endpoint speaks";
        }
    }
    return {};
}

std::string encode_command(std::string_view name, std::string_view data) {
    std::string body;
    body += static_cast<char>(name.size());
    body.append(name);
    body.append(data);
    std::string out;
    append_frame(out, flag_command, body);
    return out;
}

std::string encode_properties(std::span<const property> properties) {
    std::string out;
    for (const property& p : properties) {
        out += static_cast<char>(p.name.size());
        out += p.name;
        append_be(out, p.value.size(), 4);
        out += p.value;
    }
    return out;
}

std::vector<property> parse_properties(std::string_view data, std::string& reason) {
    reason.clear();
    std::vector<property> out;
    std::size_t at = 0;
    while (at < data.size()) {
        const std::size_t name_size = byte_at(data, at);
        if (name_size == 0 || data.size() - at < 1 + name_size + 4) {
            reason = "a property's name is empty or longer than the command";
            return {};
        }
        std::string name(data.substr(at + 1, name_size));
        at += 1 + name_size;
        const std::uint64_t value_size = load_be(data, at, 4);
        at += 4;
        if (value_size > data.size() - at) {
            reason = "property '" + name + "' is longer than the command";
            return {};
        }
        out.push_back({std::move(name), std::string(data.substr(at, value_size))});
        at += value_size;
    }
    return out;
}

std::string error_data(std::string_view reason) {
    const std::string_view cut = reason.substr(0, 255);
    std::string out;
    out += static_cast<char>(cut.size());
    out.append(cut);
    return out;
}

void encode(const message& msg, std::string& out, std::size_t first, bool more_follows) {
    for (std::size_t i = first; i < msg.size(); ++i) {
        append_frame(out, i + 1 < msg.size() || more_follows ? flag_more : 0, msg[i]);
    }
}

decoder::status decoder::fail(std::string reason) {
    reason_ = std::move(reason);
    return status::error;
}

namespace {

struct frame_header {
    std::uint8_t flags = 0;
    std::size_t length = 0;  // of the header itself: 2 bytes, or 9 for a long frame
    std::uint64_t size = 0;  // of the frame's body
};

// The header of the frame at `at`, when it has arrived whole.
std::optional<frame_header> header_at(std::string_view buffer, std::size_t at) {
    if (buffer.size() - at < 2) {
        return std::nullopt;
    }
    frame_header h;
    h.flags = byte_at(buffer, at);
    h.length = (h.flags & flag_long) != 0 ? 9 : 2;
    if (buffer.size() - at < h.length) {
        return std::nullopt;
    }
    h.size = h.length == 9 ? load_be(buffer, at + 1, 8) : byte_at(buffer, at + 1);
    return h;
}

}  // namespace

decoder::decoder(std::size_t max_message_size, std::size_t max_message_frames)
    : max_message_size_(max_message_size),
      max_message_frames_(max_message_frames),
      max_encoded_(saturating_add(doubled(max_message_size),
                                  9 * std::min(doubled(max_message_frames), SIZE_MAX / 18))) {}

decoder::status decoder::walk(std::string_view buffer, progress& p) {
    while (!p.whole) {
        const auto h = header_at(buffer, p.at);
        if (!h) {
            return status::need_more;
        }
        if ((h->flags & flags_reserved) != 0) {
            return fail("a frame's flags " + hex_byte(h->flags) + " set reserved bits");
        }
        const bool more = (h->flags & flag_more) != 0;
        if ((h->flags & flag_command) != 0) {
            if (p.frames > 0 || more) {  // so the command is at the front of `buffer`
                return fail("a command frame inside a multipart message");
            }
            return status::command_ready;
        }
        if (h->length > max_encoded_ - p.at || h->size > max_encoded_ - p.at - h->length) {
            return fail("a message of more than " + std::to_string(max_encoded_) +
                        " bytes with its headers (twice max-message-size and max-message-frames)");
        }
        if (buffer.size() - p.at - h->length < h->size) {
            return status::need_more;  // this header is read again with its frame
        }
        p.at += h->length + h->size;
        p.total += h->size;
        ++p.frames;
        p.whole = !more;
    }
    return status::message_ready;
}

decoder::status decoder::next(std::string_view buffer, message& msg, command& cmd,
                              std::size_t& consumed) {
    // Every frame header of the message as it arrives, checked against the limits; then, once
    // the whole message is there, its frames copied out, or skipped over a limit.
    const status walked = walk(buffer, progress_);
    if (walked == status::message_ready) {
        return take_message(buffer, msg, consumed);
    }
    if (walked == status::command_ready) {
        const frame_header h = *header_at(buffer, 0);
        return take_command(buffer, h.length, h.size, cmd, consumed);
    }
    return walked;  // need_more or error
}

decoder::status decoder::scan(std::string_view buffer, scanned& found) {
    found = {};
    for (;;) {
        const status walked = walk(buffer.substr(found.bytes), progress_);
        if (walked == status::message_ready && within_limits(progress_)) {
            found.bytes += progress_.at;
            ++found.messages;
            progress_ = {};
            continue;
        }
        if (found.messages == 0) {
            return walked == status::message_ready ? status::message_dropped : walked;
        }
        if (walked != status::need_more) {
            progress_ = {};  // what stopped the scan is walked again, once, at the front
        }
        return status::message_ready;
    }
}

decoder::status decoder::take_message(std::string_view buffer, message& msg,
                                      std::size_t& consumed) {
    const progress whole = std::exchange(progress_, {});
    consumed = whole.at;
    if (!within_limits(whole)) {
        return status::message_dropped;
    }
    std::size_t at = 0;
    for (std::size_t i = 0; i < whole.frames; ++i) {
        const frame_header h = *header_at(buffer, at);
        msg.assign_frame(i, buffer.substr(at + h.length, h.size));
        at += h.length + h.size;
    }
    msg.truncate(whole.frames);
    return status::message_ready;
}

decoder::status decoder::take_command(std::string_view buffer, std::size_t header,
                                      std::uint64_t size, command& cmd, std::size_t& consumed) {
    if (size > max_command_size) {
        return fail("a command of " + std::to_string(size) + " bytes, over the " +
                    std::to_string(max_command_size) + " a command may have");
    }
    if (buffer.size() - header < size) {
        return status::need_more;
    }
    const std::string_view body = buffer.substr(header, size);
    const std::size_t name_size = body.empty() ? 0 : byte_at(body, 0);
    if (name_size == 0 || 1 + name_size > body.size()) {
        return fail("a command frame with no name, or a name longer than the frame");
    }
    cmd.name.assign(body.substr(1, name_size));
    cmd.data.assign(body.substr(1 + name_size));
    consumed = header + size;
    return status::command_ready;
}

}  // namespace zpat::detail::zmtp
