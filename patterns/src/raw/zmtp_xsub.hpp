#pragma once
// A ZeroMQ XSUB of zpat's own (zmtp_socket.hpp: ZMTP on its own sockets, I/O on the calling
// thread), whose messages can stay as the wire encoded them: next_encoded() hands over the whole
// messages one read of one publisher brought, checked (zmtp::decoder::scan) but not decoded, so
// that a forwarder passes them to zmtp_xpublisher::send_encoded() as they are; receive() decodes
// one at a time. Its PUB and XPUB peers take turns, a read's worth each. Subscriptions sent are
// counted as libzmq's XSUB counts them (an unsubscribe from a prefix not held is not passed on),
// sent to every publisher (as ZMTP 3.1's SUBSCRIBE and CANCEL commands, or 3.0's messages, by
// the peer's version), and to each that connects later; anything else sent goes to every
// publisher as it is. A publisher with send_high_water_mark messages (or send_high_water_bytes)
// unwritten, one that does not read, loses what is sent, as at libzmq's XSUB, counted (dropped()).
// A message over max_message_size (or max_message_frames) is dropped and counted; one whose
// encoding passes twice the limits closes its connection. Its sockets are read only when what was
// read before has been taken. Not thread-safe, but for connections() and open_connections().

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "zmtp_socket.hpp"
#include "zpat/core/message.hpp"

namespace zpat::detail {

class zmtp_xsubscriber final : public zmtp_socket {
  public:
    // Binds every endpoint of `binds` (tcp only). Throws: connection_error naming the endpoint.
    zmtp_xsubscriber(const std::vector<endpoint>& binds, const options& opts);
    ~zmtp_xsubscriber() override;
    zmtp_xsubscriber(const zmtp_xsubscriber&) = delete;
    zmtp_xsubscriber& operator=(const zmtp_xsubscriber&) = delete;

    // The whole messages waiting next, from one publisher, encoded, reading what has arrived
    // if none waits, without waiting; empty when none has. Valid until took_encoded() or the
    // next call.
    std::string_view next_encoded();
    // The first `bytes` (whole messages) of what next_encoded() gave have been taken.
    void took_encoded(std::size_t bytes);
    // Whether whole messages read wait to be taken: if not, next_encoded() reads anew.
    bool holds_read() const noexcept { return !waiting_.empty(); }
    // The next message, waiting up to `timeout` while doing the I/O that comes. False on
    // timeout.
    bool receive(message& into, milliseconds timeout);
    // A subscription (0x01 or 0x00 and the prefix) or any other message, to every publisher.
    void send(const message& msg);
    std::uint64_t oversized_dropped() const noexcept { return oversized_; }
    // Messages sent that a publisher lost at its high-water mark, a publisher each.
    // Thread-safe.
    std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }

  private:
    struct publisher : peer {
        using peer::peer;
        bool waiting = false;  // in waiting_: whole messages of it wait to be taken
    };

    std::unique_ptr<peer> make_peer(int fd, const zmtp::connection::settings& settings) override {
        return std::make_unique<publisher>(fd, settings);
    }
    void readable(peer& p) override;
    void greeted(peer& p) override;
    void closing(peer& p) override;
    bool has_waiting() const override { return !waiting_.empty(); }

    // `p`'s whole messages waiting, after its connection takes `bytes` (drops counted, PONGs
    // written): empty when none, or when the connection closed (`p` is then gone).
    std::string_view feed(publisher& p, std::string_view bytes);
    // Queues `msg` to `p` in the form its version takes.
    static void queue(peer& p, const message& msg);
    // Notes a subscription message in subscriptions_. False for an unsubscribe from a prefix
    // not held, which goes nowhere.
    bool note(const message& msg);

    std::deque<publisher*> waiting_;  // publishers with whole messages read, in turn
    std::map<std::string, std::size_t, std::less<>> subscriptions_;  // prefix -> times
    std::uint64_t oversized_ = 0;
    std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace zpat::detail
