#include "zmtp_connection.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace zpat::detail::zmtp {
namespace {

// RFC 37: a PING's context is at most 16 bytes, and its PONG carries them back.
constexpr std::size_t max_ping_context = 16;
// The unwritten bytes past which a PING is not answered.
constexpr std::size_t pong_room = std::size_t{64} * 1024;

bool same_name(std::string_view a, std::string_view b) {
    return std::ranges::equal(a, b, [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) ==
               std::tolower(static_cast<unsigned char>(y));
    });
}

}  // namespace

connection::connection(const settings& s)
    : socket_type_(s.socket_type),
      accepts_(s.accepts),
      subscribed_to_(s.socket_type == "XPUB" || s.socket_type == "PUB"),
      decoder_(s.max_message_size, s.max_message_frames),
      out_(greeting(s.as_server)) {
    const std::array<property, 1> ours{{{"Socket-Type", std::string(socket_type_)}}};
    out_ += encode_command("READY", encode_properties(ours));
}

connection::stepped connection::step() {
    if (phase_ == phase::greeting) {
        return on_greeting();
    }
    std::size_t used = 0;
    const std::string_view rest = std::string_view(in_).substr(read_);
    const decoder::status status = decoder_.next(rest, msg_, cmd_, used);
    switch (status) {
        case decoder::status::need_more:
            return stepped::need_more;
        case decoder::status::error:
            return refuse(decoder_.reason());
        case decoder::status::command_ready:
            read_ += used;
            return on_command();
        case decoder::status::message_ready:
        case decoder::status::message_dropped:
            read_ += used;
            if (phase_ != phase::traffic) {
                return refuse("a message before the peer's READY");
            }
            if (status == decoder::status::message_dropped) {
                ++dropped_;
                return stepped::again;
            }
            return stepped::message;
    }
    return stepped::closed;
}

std::string_view connection::take_encoded(std::string_view bytes) {
    if (closed_) {
        return {};
    }
    in_.append(bytes);
    for (;;) {
        if (read_ < checked_) {
            return std::string_view(in_).substr(read_, checked_ - read_);
        }
        if (phase_ == phase::traffic) {
            decoder::scanned found;
            const std::string_view rest = std::string_view(in_).substr(read_);
            const decoder::status status = decoder_.scan(rest, found);
            if (status == decoder::status::message_ready) {
                checked_ = read_ + found.bytes;
                continue;
            }
            if (status == decoder::status::need_more) {
                compact();
                return {};
            }
        }
        // The greeting, READY, a command, or a message to drop or that breaks the framing:
        // next() takes it (scan() leaves nothing of its own that next() would not).
        switch (step()) {
            case stepped::message:  // not at the front: scan() would have found it
            case stepped::again:
                break;
            case stepped::need_more:
                compact();
                return {};
            case stepped::closed:
                return {};
        }
    }
}

connection::stepped connection::on_greeting() {
    const std::string_view arrived = std::string_view(in_).substr(0, greeting_size);
    if (std::string why = check_greeting(arrived); !why.empty()) {
        // Not our protocol, or not our mechanism: nothing the peer would read as an ERROR.
        out_.clear();
        closed_ = true;
        reason_ = std::move(why);
        return stepped::closed;
    }
    if (arrived.size() < greeting_size) {
        return stepped::need_more;
    }
    read_ = greeting_size;
    peer_minor_ = static_cast<unsigned char>(arrived[11]);
    phase_ = phase::ready;
    return stepped::again;
}

connection::stepped connection::on_command() {
    if (cmd_.name == "ERROR") {
        // A one-byte length and the reason; an empty or short one is taken as far as it goes.
        const std::string_view data = cmd_.data;
        const std::size_t size = data.empty() ? 0 : static_cast<unsigned char>(data[0]);
        return refuse("the peer sent ERROR: " +
                      std::string(data.empty() ? data : data.substr(1, size)));
    }
    if (phase_ == phase::ready) {
        if (cmd_.name != "READY") {
            return refuse("the command " + cmd_.name + " where READY was due");
        }
        return on_ready();
    }
    if (cmd_.name == "PING") {
        if (cmd_.data.size() < 2) {
            return refuse("a PING without its time-to-live");
        }
        // Unanswered while what is unwritten passes pong_room: a peer that sends PINGs and
        // does not read cannot make PONGs pile up here (its own heartbeat then times out).
        if (out_.size() < pong_room) {
            out_ += encode_command("PONG", std::string_view(cmd_.data).substr(2, max_ping_context));
            ++pings_answered_;
        }
        return stepped::again;
    }
    if (cmd_.name == "PONG") {
        return stepped::again;
    }
    if (subscribed_to_ && (cmd_.name == "SUBSCRIBE" || cmd_.name == "CANCEL")) {
        // ZMTP 3.1's form of a subscription; a 3.0 peer sends the message this makes.
        msg_.assign_frame(0, (cmd_.name == "SUBSCRIBE" ? '\x01' : '\x00') + cmd_.data);
        msg_.truncate(1);
        return stepped::message;
    }
    if (cmd_.name == "READY") {
        return refuse("a second READY");
    }
    return refuse("the command " + cmd_.name + ", which a " + std::string(socket_type_) +
                  " does not take");
}

connection::stepped connection::on_ready() {
    std::string why;
    bool typed = false;
    for (property& p : parse_properties(cmd_.data, why)) {
        if (same_name(p.name, "Socket-Type")) {
            peer_socket_type_ = std::move(p.value);
            typed = true;
        } else if (same_name(p.name, "Identity")) {
            peer_identity_ = std::move(p.value);
        }
    }
    if (!why.empty()) {
        return refuse("READY: " + why);
    }
    if (!typed) {
        return refuse("READY without a Socket-Type");
    }
    if (std::ranges::find(accepts_, peer_socket_type_) == accepts_.end()) {
        return refuse("a " + peer_socket_type_ + " peer, which cannot talk to a " +
                      std::string(socket_type_));
    }
    if (peer_identity_.size() > 255 || (!peer_identity_.empty() && peer_identity_[0] == '\0')) {
        return refuse("an Identity longer than 255 bytes or starting with a zero byte");
    }
    phase_ = phase::traffic;
    return stepped::again;
}

connection::stepped connection::refuse(std::string reason) {
    closed_ = true;
    reason_ = std::move(reason);
    out_ += encode_command("ERROR", error_data(reason_));
    return stepped::closed;
}

void connection::compact() {
    in_.erase(0, read_);  // what the decoder has checked stays at the front
    checked_ -= std::min(checked_, read_);
    read_ = 0;
}

}  // namespace zpat::detail::zmtp
