#pragma once
// One ZMTP 3.x connection under the NULL mechanism, without I/O: the bytes that arrive go in,
// whole messages come out (those over the limits dropped and counted: the decoder's), and what
// is to be written waits in outgoing(). The greeting and our READY are queued at once (RFC 37:
// each peer sends its READY before it reads the other's), so whoever drives the socket only
// reads, writes and keeps time. A PING is answered with its PONG here, carrying back at most
// the 16 bytes of context RFC 37 allows, and not while 64 KiB wait unwritten: a peer that sends
// PINGs and does not read cannot pile PONGs up. Anything the protocol does not allow closes the
// connection with a reason that names it, told to the peer in an ERROR command where the
// handshake has got that far. A publisher's connection hands over ZMTP 3.1's SUBSCRIBE and
// CANCEL commands as the messages a 3.0 subscriber sends for them (0x01 or 0x00, then the
// prefix).

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "zmtp.hpp"
#include "zpat/core/message.hpp"

namespace zpat::detail::zmtp {

class connection {
  public:
    struct settings {
        std::string_view socket_type;               // ours, as READY announces it
        std::span<const std::string_view> accepts;  // the socket types that may talk to it
        std::size_t max_message_size = 0;
        std::size_t max_message_frames = 0;
        bool as_server = true;  // false for the side that connects (the greeting's as-server)
    };
    explicit connection(const settings& s);

    // Takes bytes read from the peer, and calls `on_message(message&)` for each whole message
    // they complete. Returns false once the connection must close: reason() says why.
    template <class OnMessage>
    bool take(std::string_view bytes, OnMessage&& on_message) {
        if (closed_) {
            return false;
        }
        in_.append(bytes);
        for (;;) {
            switch (step()) {
                case stepped::message:
                    on_message(msg_);
                    break;
                case stepped::again:
                    break;
                case stepped::need_more:
                    compact();
                    return true;
                case stepped::closed:
                    return false;
            }
        }
    }

    // For a connection whose messages stay encoded, instead of take(): appends `bytes`, takes
    // the greeting, commands and messages to drop itself, and returns the whole messages that
    // come next (up to a command), encoded as they arrived: valid until took() or the next
    // call, which then returns what is left of them. Empty when none is whole, or once the
    // connection must close (closed(), reason()).
    std::string_view take_encoded(std::string_view bytes);
    // The first `bytes` (whole messages) of what take_encoded() returned have been taken.
    void took(std::size_t bytes) noexcept { read_ += bytes; }

    // Queues `msg` to be written after what is queued already (our READY first).
    void send(const message& msg) { encode(msg, out_); }
    // The bytes to write; the driver erases what it has written.
    std::string& outgoing() noexcept { return out_; }
    const std::string& outgoing() const noexcept { return out_; }

    bool ready() const noexcept { return phase_ == phase::traffic; }
    bool closed() const noexcept { return closed_; }
    const std::string& reason() const noexcept { return reason_; }
    // What the peer's READY said: its socket type, and the identity it asked for (maybe none).
    const std::string& peer_socket_type() const noexcept { return peer_socket_type_; }
    const std::string& peer_identity() const noexcept { return peer_identity_; }
    // The minor version of ZMTP 3 its greeting gave: from 1 on it takes SUBSCRIBE and CANCEL.
    unsigned peer_minor_version() const noexcept { return peer_minor_; }
    std::size_t pings_answered() const noexcept { return pings_answered_; }
    // Messages dropped whole for being over max_message_size or max_message_frames.
    std::size_t dropped() const noexcept { return dropped_; }

  private:
    enum class phase { greeting, ready, traffic };
    // What one step through the arrived bytes did: a message for the caller, something taken
    // here (the greeting, a command), or nothing more to take. A loop, not recursion: a peer
    // decides how many commands one read holds.
    enum class stepped { message, again, need_more, closed };

    stepped step();
    stepped on_greeting();
    stepped on_command();
    stepped on_ready();
    stepped refuse(std::string reason);
    void compact();

    std::string_view socket_type_;
    std::span<const std::string_view> accepts_;
    bool subscribed_to_;  // a publisher: SUBSCRIBE and CANCEL come as messages 0x01 and 0x00
    decoder decoder_;
    phase phase_ = phase::greeting;
    bool closed_ = false;
    std::string in_;
    std::size_t read_ = 0;     // bytes of in_ already taken
    std::size_t checked_ = 0;  // take_encoded(): the whole messages found end here in in_
    unsigned peer_minor_ = 0;
    std::string out_;
    message msg_;
    command cmd_;
    std::string reason_;
    std::string peer_socket_type_;
    std::string peer_identity_;
    std::size_t pings_answered_ = 0;
    std::size_t dropped_ = 0;
};

}  // namespace zpat::detail::zmtp
