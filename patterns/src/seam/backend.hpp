#pragma once
// The seam between patterns and transports. A backend builds the implementation of each role
// for the endpoints it owns; the public role classes are thin owners of these. A backend that
// does not build a cell of the patterns x backends matrix throws unsupported_error from that
// maker, naming the cell.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "zpat/core/connection_counts.hpp"
#include "zpat/core/connection_info.hpp"
#include "zpat/core/datagram_peer.hpp"
#include "zpat/core/endpoint.hpp"
#include "zpat/core/handler.hpp"
#include "zpat/core/message.hpp"
#include "zpat/core/options.hpp"
#include "zpat/core/poll_handle.hpp"
#include "zpat/core/relayed.hpp"
#include "zpat/core/stream_event.hpp"

namespace zpat::detail {

// What every role implementation has.
class role_impl {
  public:
    virtual ~role_impl() = default;
    // The endpoints in use; bound wildcards resolved to the real address.
    virtual const std::vector<std::string>& endpoints() const = 0;
    // What its connections went through; zeros where the backend cannot tell (ZeroMQ).
    virtual connection_counts connections() const { return {}; }
    // Its open connections (connection_info.hpp says what each backend tells); thread-safe.
    virtual std::vector<connection_info> open_connections() const { return {}; }
};

// Pusher: sends, waiting at the high-water mark.
class sender_impl : public role_impl {
  public:
    // Returns false when no room came within options::send_timeout.
    virtual bool send(const message& msg) = 0;
};

// Puller, and the receiving half of subscriber and replier.
class receiver_impl : public role_impl {
  public:
    // Returns false on timeout; otherwise `into` holds the next message.
    virtual bool receive(message& into, milliseconds timeout) = 0;
    virtual std::uint64_t oversized_dropped() const noexcept = 0;
    virtual poll_handle handle() const = 0;
};

// Runs `serve_one` on `threads` threads, the caller's being one of them, and returns when all
// have returned: how a replier serves with a pool.
inline void run_on_threads(unsigned threads, const std::function<void()>& serve_one) {
    std::vector<std::thread> pool;
    for (unsigned i = 1; i < threads; ++i) {
        pool.emplace_back(serve_one);
    }
    serve_one();
    for (auto& t : pool) {
        t.join();
    }
}

// The optional-returning receive of the public roles, over the reusing one.
inline std::optional<message> receive_new(receiver_impl& impl, milliseconds timeout) {
    message msg;
    if (!impl.receive(msg, timeout)) {
        return std::nullopt;
    }
    return msg;
}

class publisher_impl : public sender_impl {
  public:
    virtual bool wait_for_subscriptions(std::size_t count, milliseconds timeout) = 0;
    virtual std::size_t subscriptions_seen() const noexcept = 0;
    // Messages lost at a subscriber's high-water mark, where the transport can tell.
    virtual std::uint64_t dropped() const { return 0; }
};

class subscriber_impl : public receiver_impl {
  public:
    // Messages the transport knows it lost (raw+udp sequence gaps); 0 where it cannot tell.
    virtual std::uint64_t lost() const noexcept { return 0; }
    virtual void subscribe(std::string_view prefix) = 0;
    virtual void unsubscribe(std::string_view prefix) = 0;
};

class requester_impl : public role_impl {
  public:
    virtual std::optional<message> request(const message& request) = 0;
    virtual int last_attempts() const noexcept = 0;
};

class replier_impl : public receiver_impl {
  public:
    virtual void reply(const message& reply) = 0;
    virtual void serve(const request_handler& handler, unsigned threads) = 0;
    virtual void stop() = 0;
    virtual std::uint64_t handler_failures() const noexcept = 0;
    virtual std::uint64_t malformed_requests() const noexcept = 0;
};

// The Majordomo worker; the Majordomo client is a requester whose frames carry the MDP header.
class service_worker_impl : public role_impl {
  public:
    virtual bool receive(message& body, milliseconds timeout) = 0;
    virtual void reply(const message& body) = 0;
    virtual void abandon() = 0;
    virtual void serve(const request_handler& handler) = 0;
    virtual void stop() = 0;
    virtual std::uint64_t reconnects() const noexcept = 0;
    virtual std::uint64_t malformed_commands() const noexcept = 0;
    virtual std::uint64_t handler_failures() const noexcept = 0;
};

// Router: each message it receives starts with the identity frame of the peer that sent it, and
// each message it sends goes to the peer its first frame names.
class router_impl : public receiver_impl {
  public:
    // Returns false when the named peer is not connected (counted in unroutable()) or its
    // queue had no room within options::send_timeout.
    virtual bool send(const message& msg) = 0;
    virtual std::uint64_t unroutable() const noexcept = 0;
    virtual const std::string& peer_key() const noexcept = 0;
};

// Dealer: sends each message to its next connected peer in turn and receives from all of them,
// the frames as they are (no envelope is added or taken).
class dealer_impl : public receiver_impl {
  public:
    // Returns false when no peer had room within options::send_timeout.
    virtual bool send(const message& msg) = 0;
};

// XPublisher: a publisher that hands its user every subscription message its subscribers send.
class xpublisher_impl : public sender_impl {
  public:
    virtual bool receive_subscription(message& into, milliseconds timeout) = 0;
    virtual poll_handle subscriptions_handle() const = 0;
    virtual std::uint64_t dropped() const { return 0; }
};

// XSubscriber: receives what its publishers send for the subscriptions it sends upstream as
// messages of its own.
class xsubscriber_impl : public receiver_impl {
  public:
    virtual bool send(const message& msg) = 0;
    // Messages sent that a publisher lost at its high-water mark: 0 where none can be lost or
    // where the library does not tell (xsubscriber::dropped()).
    virtual std::uint64_t dropped() const { return 0; }
};

// Relay: moves whole messages from a receiving cell to a sending cell. A backend offers its own
// where it can move frames without copying them; relay.cpp has the one that works for any pair.
class relay_impl {
  public:
    virtual ~relay_impl() = default;
    // Moves the next waiting message, or first the one held; `watch` (may be empty) sees each
    // frame once, as it is received, or only each message's first one.
    virtual relayed step(const frame_watch& watch, watched_frames which) = 0;
};

// Stream: plain bytes on byte-stream connections, without zpat's framing.
class stream_impl : public role_impl {
  public:
    virtual std::optional<stream_event> receive(milliseconds timeout) = 0;
    virtual bool send(stream_connection_id connection, std::string_view bytes) = 0;
    virtual void close(stream_connection_id connection) = 0;
    virtual poll_handle handle() const = 0;
};

// Datagram: plain datagrams, without zpat's header.
class datagram_impl : public role_impl {
  public:
    virtual std::optional<datagram_received> receive(milliseconds timeout) = 0;
    // `to` nullptr: the connected peer.
    virtual bool send(const datagram_peer* to, std::string_view bytes) = 0;
    virtual std::uint64_t dropped() const = 0;
    virtual poll_handle handle() const = 0;
};

// One transport family: a table of makers, one per role, as nng's transports are tables of
// operations. Makers receive endpoints whose schemes the registry gave to this backend; a
// maker for a cell the backend does not build throws unsupported_error, naming the cell.
template <class Role>
using maker = std::unique_ptr<Role> (*)(const std::vector<endpoint>&, const options&);
// Returns the backend's own relay when both cells are its own, or nullptr.
using relay_maker = std::unique_ptr<relay_impl> (*)(receiver_impl& from, sender_impl& to);
using service_worker_maker = std::unique_ptr<service_worker_impl> (*)(const std::vector<endpoint>&,
                                                                      std::string_view service,
                                                                      const options&);

struct backend {
    std::string_view name;
    std::size_t max_frames;  // the most frames its wire carries in one message; 0: no limit
    bool connections;        // whether it has connections to be complete (options::immediate)
    bool curve;              // whether it takes options::curve
    bool tls;                // whether it takes options::tls
    bool plain_text;         // no security of its own: binds beyond loopback need allow_insecure
    // Why the backend does not build `role`, or an empty string when it does. Its makers for
    // those cells throw unsupported_error with these words.
    std::string (*refusal)(role_kind role);
    maker<requester_impl> make_requester;
    maker<replier_impl> make_replier;
    maker<sender_impl> make_pusher;
    maker<receiver_impl> make_puller;
    maker<publisher_impl> make_publisher;
    maker<subscriber_impl> make_subscriber;
    maker<requester_impl> make_service_client;
    service_worker_maker make_service_worker;
    maker<stream_impl> make_stream;
    maker<datagram_impl> make_datagram;
    maker<router_impl> make_router;
    maker<dealer_impl> make_dealer;
    maker<xpublisher_impl> make_xpublisher;
    maker<xsubscriber_impl> make_xsubscriber;
    relay_maker make_relay;  // nullptr: none of its own; the relay that copies serves
};

}  // namespace zpat::detail
