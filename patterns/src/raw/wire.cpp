#include "wire.hpp"

#include <algorithm>
#include <cstring>

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
    const auto bytes = u32_bytes(value);
    out.append(bytes.data(), bytes.size());
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
        // A TLS record begins with its type (22: handshake, 21: alert) and version 3.x.
        if (bytes.size() >= 2 && (bytes[0] == 22 || bytes[0] == 21) && bytes[1] == 3) {
            return "the peer speaks TLS, and this endpoint does not: use raw+tls:// on both "
                   "sides";
        }
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

decoder::status decoder::measure(std::string_view buffer, std::size_t& consumed) {
    if (buffer.size() < 4) {
        return status::need_more;
    }
    const std::uint32_t count = read_u32(buffer, 0);
    if (count == 0 || count > max_message_frames_) {
        return fail("message declares " + std::to_string(count) + " frames (allowed: 1 to " +
                    std::to_string(max_message_frames_) + ")");
    }
    // Every length that has arrived is checked against the limit, and nothing is copied.
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
    consumed = at;
    return status::message_ready;
}

decoder::status decoder::next(std::string_view buffer, message& into, std::size_t& consumed) {
    const status found = measure(buffer, consumed);
    if (found != status::message_ready) {
        return found;
    }
    // The whole message is here: copy its frames out.
    const std::uint32_t count = read_u32(buffer, 0);
    std::size_t at = 4;
    for (std::uint32_t i = 0; i < count; ++i) {
        const std::uint32_t length = read_u32(buffer, at);
        into.assign_frame(i, buffer.substr(at + 4, length));
        at += 4 + length;
    }
    into.truncate(count);
    return status::message_ready;
}

decoder::status decoder::scan(std::string_view buffer, scanned& found) {
    found = {};
    for (;;) {
        std::size_t size = 0;
        const status next = measure(buffer.substr(found.bytes), size);
        if (next != status::message_ready) {
            return found.messages > 0 && next == status::need_more ? status::message_ready : next;
        }
        found.bytes += size;
        ++found.messages;
    }
}

void stream_decoder::reset() noexcept {
    state_ = state::count;
    header_have_ = 0;
    partial_bytes_ = 0;
}

stream_decoder::status stream_decoder::fail(std::string reason) {
    reason_ = std::move(reason);
    return status::error;
}

std::optional<std::uint32_t> stream_decoder::header(std::string_view& input) {
    const std::size_t take = std::min(header_.size() - header_have_, input.size());
    std::memcpy(header_.data() + header_have_, input.data(), take);
    header_have_ += take;
    partial_bytes_ += take;
    input.remove_prefix(take);
    if (header_have_ < header_.size()) {
        return std::nullopt;
    }
    header_have_ = 0;
    return read_u32(std::string_view(header_.data(), header_.size()), 0);
}

bool stream_decoder::begin_frame(std::uint32_t length, message& into) {
    total_ += length;
    if (total_ > max_message_size_) {
        return false;
    }
    length_ = length;
    if (frame_ >= into.size()) {
        into.push_back(std::string_view());
    }
    std::string& frame = into[frame_];
    frame.clear();  // keeps the storage of a message received before
    if (length <= eager_bytes) {
        frame.reserve(length);
    }
    return true;
}

std::optional<stream_decoder::status> stream_decoder::whole_message(std::string_view& input,
                                                                    message& into) {
    std::size_t used = 0;
    switch (whole_.next(input, into, used)) {
        case decoder::status::message_ready:
            input.remove_prefix(used);
            return status::message_ready;
        case decoder::status::error:
            return fail(whole_.reason());
        case decoder::status::need_more:
            break;
    }
    return std::nullopt;  // it continues in a later read: build it as its bytes come
}

stream_decoder::status stream_decoder::feed(std::string_view& input, message& into) {
    if (state_ == state::count && header_have_ == 0) {
        // Between messages: one that is all here is decoded in one go (most small ones are).
        if (const auto done = whole_message(input, into)) {
            return *done;
        }
    }
    for (;;) {
        if (state_ == state::count) {
            const auto count = header(input);
            if (!count) {
                return status::need_more;
            }
            if (*count == 0 || *count > max_message_frames_) {
                return fail("message declares " + std::to_string(*count) +
                            " frames (allowed: 1 to " + std::to_string(max_message_frames_) + ")");
            }
            frames_ = *count;
            frame_ = 0;
            total_ = 0;
            state_ = state::length;
        }
        if (state_ == state::length) {
            const auto length = header(input);
            if (!length) {
                return status::need_more;
            }
            if (!begin_frame(*length, into)) {
                return fail("message of at least " + std::to_string(total_) +
                            " bytes exceeds max_message_size of " +
                            std::to_string(max_message_size_));
            }
            state_ = state::body;
        }
        std::string& frame = into[frame_];
        const std::size_t take = std::min(length_ - frame.size(), input.size());
        if (frame.capacity() < frame.size() + take) {
            // A large frame grows with what arrives, at least doubling, so that its bytes are
            // moved O(1) times on average and never held far ahead of the peer.
            frame.reserve(std::min(length_, std::max(frame.size() + take, 2 * frame.capacity())));
        }
        frame.append(input.data(), take);
        partial_bytes_ += take;
        input.remove_prefix(take);
        if (frame.size() < length_) {
            return status::need_more;
        }
        state_ = state::length;
        if (++frame_ == frames_) {
            into.truncate(frames_);
            state_ = state::count;
            partial_bytes_ = 0;
            return status::message_ready;
        }
    }
}

}  // namespace zpat::detail::wire
