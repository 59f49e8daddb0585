#include "wire.hpp"

namespace zpat::detail::wire {
namespace {

constexpr std::string_view magic = "ZPAT";

std::uint32_t read_u32(std::string_view bytes, std::size_t at) {
    return (std::uint32_t{static_cast<unsigned char>(bytes[at])} << 24U) |
           (std::uint32_t{static_cast<unsigned char>(bytes[at + 1])} << 16U) |
           (std::uint32_t{static_cast<unsigned char>(bytes[at + 2])} << 8U) |
           std::uint32_t{static_cast<unsigned char>(bytes[at + 3])};
}

void append_u32(std::string& out, std::size_t value) {
    const auto v = static_cast<std::uint32_t>(value);
    const char bytes[4] = {static_cast<char>(v >> 24U), static_cast<char>(v >> 16U),
                           static_cast<char>(v >> 8U), static_cast<char>(v)};
    out.append(bytes, 4);
}

bool is_role(char c) {
    return c == 'q' || c == 'r' || c == 'u' || c == 'l' || c == 'p' || c == 's';
}

}  // namespace

const char* role_name(role r) {
    switch (r) {
        case role::requester:
            return "requester";
        case role::replier:
            return "replier";
        case role::pusher:
            return "pusher";
        case role::puller:
            return "puller";
        case role::publisher:
            return "publisher";
        case role::subscriber:
            return "subscriber";
    }
    return "unknown";
}

role peer_of(role r) {
    switch (r) {
        case role::requester:
            return role::replier;
        case role::replier:
            return role::requester;
        case role::pusher:
            return role::puller;
        case role::puller:
            return role::pusher;
        case role::publisher:
            return role::subscriber;
        case role::subscriber:
            return role::publisher;
    }
    return r;
}

std::string greeting(role self) {
    std::string out(magic);
    out += static_cast<char>(version);
    out += static_cast<char>(self);
    out.append(2, '\0');
    return out;
}

std::string check_greeting(std::string_view bytes, role expected) {
    if (bytes.size() < greeting_size || bytes.substr(0, 4) != magic) {
        return "not a zpat raw peer (greeting does not start with \"ZPAT\")";
    }
    if (static_cast<std::uint8_t>(bytes[4]) != version) {
        return "speaks wire version " + std::to_string(static_cast<unsigned char>(bytes[4])) +
               ", this side speaks version " + std::to_string(version);
    }
    if (!is_role(bytes[5])) {
        return std::string("greeting names an unknown role '") + bytes[5] + "'";
    }
    const auto theirs = static_cast<role>(bytes[5]);
    if (theirs != expected) {
        return std::string("is a ") + role_name(theirs) + ", but only a " + role_name(expected) +
               " can talk to this side";
    }
    return {};
}

void encode(const message& msg, std::string& out) {
    append_u32(out, msg.size());
    for (const std::string& frame : msg) {
        append_u32(out, frame.size());
        out += frame;
    }
}

decoder::status decoder::fail(std::string reason) {
    reason_ = std::move(reason);
    return status::error;
}

decoder::status decoder::next(std::string_view buffer, message& into, std::size_t& consumed) {
    if (buffer.size() < 4) {
        return status::need_more;
    }
    const std::uint32_t count = read_u32(buffer, 0);
    if (count == 0 || count > max_frames) {
        return fail("message declares " + std::to_string(count) + " frames (allowed: 1 to " +
                    std::to_string(max_frames) + ")");
    }
    // First pass: check every length that has arrived against the limit, without copying.
    std::size_t at = 4;
    std::size_t total = 0;
    for (std::uint32_t i = 0; i < count; ++i) {
        if (buffer.size() < at + 4) {
            return status::need_more;
        }
        const std::uint32_t length = read_u32(buffer, at);
        total += length;
        if (total > max_message_size_) {
            return fail("message of at least " + std::to_string(total) +
                        " bytes exceeds max_message_size of " + std::to_string(max_message_size_));
        }
        at += 4;
        if (buffer.size() - at < length) {
            return status::need_more;
        }
        at += length;
    }
    // Second pass: the whole message is here; copy its frames out.
    at = 4;
    for (std::uint32_t i = 0; i < count; ++i) {
        const std::uint32_t length = read_u32(buffer, at);
        into.assign_frame(i, buffer.substr(at + 4, length));
        at += 4 + length;
    }
    into.truncate(count);
    consumed = at;
    return status::message_ready;
}

}  // namespace zpat::detail::wire
