#pragma once
// A ZeroMQ XPUB of zpat's own (zmtp_socket.hpp: ZMTP on its own sockets, I/O on the calling
// thread), as libzmq's XPUB with XPUB_VERBOSER: its SUB and XSUB peers' subscriptions (ZMTP
// 3.1's SUBSCRIBE and CANCEL commands, or 3.0's 0x01 and 0x00 messages) are kept per peer in a
// topic trie, and each is handed to the user too: every subscribe, every unsubscribe from a
// prefix the peer held, and, when a peer goes, an unsubscribe for each subscription it still
// held, so what the user reads balances. Anything else a peer sends is handed over as it is
// (libzmq's XPUB does so for an XSUB's messages). A message goes to every peer with a
// subscription that prefixes its first frame; a peer with send_high_water_mark messages (or
// send_high_water_bytes) unwritten loses it, counted in dropped(), or, when the send waits for
// room, the send waits up to options::send_timeout for it. What one peer may make it hold is
// bounded by options::max_subscriptions and max_subscription_prefix (past them the peer is cut
// off), and by reading only when what was read before has been taken. Not thread-safe, but for
// connections() and open_connections().

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "raw_relay.hpp"
#include "zmtp_socket.hpp"
#include "zpat/core/message.hpp"
#include "zpat/topic_trie.hpp"

namespace zpat::detail {

class zmtp_xpublisher final : public zmtp_socket {
  public:
    // Binds every endpoint of `binds` (tcp only). Throws: connection_error naming the endpoint.
    zmtp_xpublisher(const std::vector<endpoint>& binds, const options& opts);
    ~zmtp_xpublisher() override;
    zmtp_xpublisher(const zmtp_xpublisher&) = delete;
    zmtp_xpublisher& operator=(const zmtp_xpublisher&) = delete;

    // Queues `msg` to every subscriber of its topic and writes what their sockets take. With
    // `wait_for_room`, false when a subscriber of it had no room within options::send_timeout
    // (and nobody was sent it); without, a full subscriber loses it.
    bool send(const message& msg, bool wait_for_room);
    // The whole ZMTP-encoded messages in `encoded` (zmtp::decoder::scan()), as send() would
    // send each. What each subscriber is sent waits to be written with what comes after it,
    // until flush_queued() or until it passes 64 KiB: a relay's round of reads from many
    // publishers goes out to a subscriber in few writes, not one each. Stops at a message over
    // `limits` (refused), and, with `wait_for_room`, at one that finds a subscriber full once
    // others have gone, or once the send timeout has passed waiting for the first.
    encoded_sent send_encoded(std::string_view encoded, bool wait_for_room, const options& limits);
    // Writes what send_encoded() kept back.
    void flush_queued() { write_touched(); }
    // The next subscription, or other message, from a subscriber, waiting up to `timeout`
    // while doing the I/O that is ready. False on timeout.
    bool receive_subscription(message& into, milliseconds timeout);
    // Thread-safe.
    std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }

  private:
    struct subscriber : peer {
        using peer::peer;
        std::map<std::string, std::size_t, std::less<>> held;  // prefix -> times subscribed
        std::size_t subscriptions = 0;                         // together
        bool queued = false;  // in touched_: written at the end of a batch
    };

    std::unique_ptr<peer> make_peer(int fd, const zmtp::connection::settings& settings) override {
        return std::make_unique<subscriber>(fd, settings);
    }
    void readable(peer& p) override;
    void closing(peer& p) override;

    // Applies what `s` sent. Returns an empty string, or why `s` must be cut off.
    std::string take(subscriber& s, message& msg);
    // Finds the subscribers of `topic` in matched_. Returns false when `wait_for_room` and one
    // is full.
    bool match(std::string_view topic, bool wait_for_room);
    // Waits until every full subscriber in matched_ has room, or `deadline`. Returns false at
    // the deadline.
    bool wait_for_room(clock::time_point deadline);
    clock::time_point send_deadline() const;  // options::send_timeout from now
    void queue(subscriber& s, std::string_view encoded);
    void write_touched();

    topic_trie<subscriber*> subscribers_;
    std::vector<subscriber*> matched_;  // the subscribers of the message being sent
    std::vector<subscriber*> touched_;  // those queued to in a batch, to be written at its end
    std::string encoded_;               // send()'s message, encoded once for all its subscribers
    std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace zpat::detail
