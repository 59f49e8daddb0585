#pragma once
// Publish-subscribe: a publisher sends each message to every subscriber whose subscription is a
// byte prefix of the message's first frame (the topic); the empty prefix matches everything.
// A subscriber that is too slow loses messages at the high-water mark; the publisher never
// waits for it (unless options::block_when_full). On the ZeroMQ backend the publisher is an XPUB
// socket (so it can see subscriptions arrive) and the subscriber a SUB socket; both interoperate
// with plain PUB/SUB/XSUB peers. Move-only; not thread-safe.

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zpat/core/connection_counts.hpp"
#include "zpat/core/connection_info.hpp"
#include "zpat/core/message.hpp"
#include "zpat/core/options.hpp"
#include "zpat/core/poll_handle.hpp"

namespace zpat {

namespace detail {
class publisher_impl;
class subscriber_impl;
class xpublisher_impl;
class xsubscriber_impl;
}  // namespace detail

class relay;

class publisher {
  public:
    // Binds (by default) `endpoints`. Throws: endpoint_error, connection_error,
    // unsupported_error.
    explicit publisher(std::string_view endpoints, const options& opts = {});
    ~publisher();
    publisher(publisher&&) noexcept;
    publisher& operator=(publisher&&) noexcept;

    // Sends `msg`, whose frame 0 is the topic, to every matching subscriber.
    // Returns: false only with block_when_full, when no room came within options::send_timeout.
    // Throws: message_size_error; state_error for a message with no frames.
    bool send(const message& msg);
    // Shorthand for send({topic, payload}).
    bool publish(std::string_view topic, std::string_view payload);

    // Waits until at least `count` subscriptions have reached this publisher since it was made
    // (a subscriber with two topics counts twice). Publishing before subscribers have joined
    // loses those messages (the "slow joiner"); this is the cure. Returns false on timeout.
    bool wait_for_subscriptions(std::size_t count, milliseconds timeout);
    // Subscriptions seen so far.
    std::size_t subscriptions_seen() const noexcept;
    // Messages lost because a subscriber was at its high-water mark. raw+tcp counts them per
    // subscriber; libzmq drops without telling, so on ZeroMQ this stays 0.
    std::uint64_t dropped() const;
    const std::vector<std::string>& endpoints() const;
    // What its connections went through (connection_counts.hpp says what each backend
    // counts). Thread-safe.
    connection_counts connections() const;
    // Its connections open now: peer, endpoint, since when and, on raw TCP, what each carried
    // (connection_info.hpp). Thread-safe.
    std::vector<connection_info> open_connections() const;

  private:
    friend class relay;
    std::unique_ptr<detail::publisher_impl> impl_;
};

class subscriber {
  public:
    // Connects (by default) to `endpoints` and subscribes to each of `topics`.
    // Throws: endpoint_error, connection_error,
    // unsupported_error.
    explicit subscriber(std::string_view endpoints,
                        std::initializer_list<std::string_view> topics = {},
                        const options& opts = {});
    ~subscriber();
    subscriber(subscriber&&) noexcept;
    subscriber& operator=(subscriber&&) noexcept;

    // Adds / removes a topic prefix; "" is every message. Subscriptions are counted: subscribing
    // twice needs two unsubscribes.
    void subscribe(std::string_view prefix);
    void unsubscribe(std::string_view prefix);

    // Waits up to `timeout` for the next matching message. Returns nullopt on timeout.
    std::optional<message> receive(milliseconds timeout = forever);
    // The same into `into`, reusing its storage. Returns false on timeout.
    bool receive(message& into, milliseconds timeout = forever);
    std::uint64_t oversized_dropped() const noexcept;
    // Messages the transport knows were lost on the way: raw+udp counts gaps in the publisher's
    // sequence numbers. 0 on transports that cannot tell (ZeroMQ, raw+tcp).
    std::uint64_t lost_messages() const noexcept;
    const std::vector<std::string>& endpoints() const;
    // What its connections went through (connection_counts.hpp says what each backend
    // counts). Thread-safe.
    connection_counts connections() const;
    // Its connections open now: peer, endpoint, since when and, on raw TCP, what each carried
    // (connection_info.hpp). Thread-safe.
    std::vector<connection_info> open_connections() const;
    detail::poll_handle poll_handle() const;

  private:
    friend class relay;
    std::unique_ptr<detail::subscriber_impl> impl_;
};

// The two ends of a pub-sub forwarder, as the ZeroMQ Guide's XPUB and XSUB sockets: the
// subscriptions are messages that the user reads and passes on. A subscription message is one
// frame, 0x01 then the topic prefix; an unsubscription the same with 0x00. Both run on ZeroMQ
// endpoints and on raw+tcp://. There the xpublisher hands over each subscribe, each unsubscribe
// from a prefix the subscriber held, and for a subscriber that goes an unsubscribe per
// subscription it held; the xsubscriber sends subscription messages only (raw publishers hear
// nothing else from subscribers; others are refused with unsupported_error). raw+udp:// refuses
// both with unsupported_error: a datagram publisher keeps its subscribers' prefixes to itself.
// Move-only; not thread-safe.
//
//   zpat::xsubscriber upstream(">tcp://publisher:5556");
//   zpat::xpublisher downstream("@tcp://*:5557");
//   // subscriptions: downstream.receive_subscription() -> upstream.send()
//   // messages:      zpat::relay(upstream, downstream).step()

class xpublisher {
  public:
    // Binds (by default) `endpoints`. With options::block_when_full, a send waits (up to
    // options::send_timeout) for room at a full subscriber instead of dropping for it.
    // Throws: endpoint_error, connection_error, unsupported_error.
    explicit xpublisher(std::string_view endpoints, const options& opts = {});
    ~xpublisher();
    xpublisher(xpublisher&&) noexcept;
    xpublisher& operator=(xpublisher&&) noexcept;

    // Sends `msg`, whose frame 0 is the topic, to every matching subscriber.
    // Returns: false only with block_when_full, when no room came within send_timeout.
    // Throws: message_size_error; state_error for a message with no frames.
    bool send(const message& msg);
    // Waits up to `timeout` for the next subscription message from a subscriber: every
    // subscribe and unsubscribe, also repeated ones. Returns false on timeout.
    bool receive_subscription(message& into, milliseconds timeout = forever);
    // Messages lost because a subscriber was at its high-water mark: counted on raw+tcp and
    // with io_model::caller, 0 on libzmq's XPUB (which drops without telling). Thread-safe.
    std::uint64_t dropped() const;
    const std::vector<std::string>& endpoints() const;
    // What its connections went through (connection_counts.hpp). Thread-safe.
    connection_counts connections() const;
    // Its connections open now: peer, endpoint, since when and, on raw TCP, what each carried
    // (connection_info.hpp). Thread-safe.
    std::vector<connection_info> open_connections() const;
    // Readable while subscription messages wait (for zpat::poller).
    detail::poll_handle poll_handle() const;

  private:
    friend class relay;
    std::unique_ptr<detail::xpublisher_impl> impl_;
};

class xsubscriber {
  public:
    // Connects (by default) to `endpoints`, subscribed to nothing.
    // Throws: endpoint_error, connection_error, unsupported_error.
    explicit xsubscriber(std::string_view endpoints, const options& opts = {});
    ~xsubscriber();
    xsubscriber(xsubscriber&&) noexcept;
    xsubscriber& operator=(xsubscriber&&) noexcept;

    // Sends `msg` to every publisher: a subscription message subscribes (each one counts; as
    // many unsubscriptions undo it), anything else reaches the publishers' users as it is.
    // Throws: message_size_error; state_error for a message with no frames.
    bool send(const message& msg);
    // Shorthands for the subscription messages.
    void subscribe(std::string_view prefix);
    void unsubscribe(std::string_view prefix);
    // Waits up to `timeout` for the next message from a publisher. Returns false on timeout.
    bool receive(message& into, milliseconds timeout = forever);
    std::uint64_t oversized_dropped() const noexcept;
    // Messages sent that a publisher lost at its high-water mark (one that does not read), a
    // publisher each: counted with io_model::caller; 0 on libzmq's XSUB, which drops without
    // telling, and on raw+tcp, whose subscriptions are kept as a set and never dropped.
    // Thread-safe.
    std::uint64_t dropped() const;
    const std::vector<std::string>& endpoints() const;
    // What its connections went through (connection_counts.hpp). Thread-safe.
    connection_counts connections() const;
    // Its connections open now: peer, endpoint, since when and, on raw TCP, what each carried
    // (connection_info.hpp). Thread-safe.
    std::vector<connection_info> open_connections() const;
    detail::poll_handle poll_handle() const;

  private:
    friend class relay;
    std::unique_ptr<detail::xsubscriber_impl> impl_;
};

}  // namespace zpat
