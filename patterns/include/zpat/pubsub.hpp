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
#include "zpat/core/message.hpp"
#include "zpat/core/options.hpp"
#include "zpat/core/poll_handle.hpp"

namespace zpat {

namespace detail {
class publisher_impl;
class subscriber_impl;
}  // namespace detail

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
    // What its connections went through (raw+tcp; zeros on ZeroMQ). Thread-safe.
    connection_counts connections() const;

  private:
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
    // What its connections went through (raw+tcp; zeros on ZeroMQ). Thread-safe.
    connection_counts connections() const;
    detail::poll_handle poll_handle() const;

  private:
    std::unique_ptr<detail::subscriber_impl> impl_;
};

}  // namespace zpat
