#pragma once
// Relay: moves whole messages from a receiving role (puller, subscriber, xsubscriber) to a
// sending role (pusher, publisher, xpublisher), as the ZeroMQ Guide's proxies do: puller to
// pusher is a pipeline streamer, xsubscriber to xpublisher a pub-sub forwarder. When both roles are
// on ZeroMQ the frames move from socket to socket without being copied. From a raw xsubscriber to
// a raw publisher or xpublisher, the messages one read brought pass through as the wire encoded
// them: each topic is matched in place and the bytes appended to each subscriber's queue, a read
// at a time, never decoded. Otherwise each message is received and sent again. A step moves what
// waits, up to a bound: up to 256 messages between ZeroMQ sides, one read's worth on the raw
// pass-through, one message otherwise; a message that finds no room at the destination is held,
// not lost, and goes first at the next step. Not thread-safe; both roles must outlive the relay.
//
//   zpat::relay pipe(from, to);
//   while (running) {
//       if (pipe.step().what == zpat::relayed::idle) poller.run_once(100ms);
//   }

#include <memory>

#include "zpat/core/relayed.hpp"
#include "zpat/pipeline.hpp"
#include "zpat/pubsub.hpp"

namespace zpat {

namespace detail {
class relay_impl;
class receiver_impl;
class sender_impl;
}  // namespace detail

class relay {
  public:
    // What a relay receives from.
    class source {
      public:
        source(puller& role) : impl_(cell(role)) {}       // NOLINT(google-explicit-constructor)
        source(subscriber& role) : impl_(cell(role)) {}   // NOLINT(google-explicit-constructor)
        source(xsubscriber& role) : impl_(cell(role)) {}  // NOLINT(google-explicit-constructor)

      private:
        friend class relay;
        detail::receiver_impl* impl_;
    };
    // What a relay sends to.
    class destination {
      public:
        destination(pusher& role) : impl_(cell(role)) {}      // NOLINT(google-explicit-constructor)
        destination(publisher& role) : impl_(cell(role)) {}   // NOLINT(google-explicit-constructor)
        destination(xpublisher& role) : impl_(cell(role)) {}  // NOLINT(google-explicit-constructor)

      private:
        friend class relay;
        detail::sender_impl* impl_;
    };

    relay(source from, destination to);
    ~relay();
    relay(relay&&) noexcept;
    relay& operator=(relay&&) noexcept;

    // Without waiting for a message to arrive: sends the held message, or else moves what
    // waits (relayed::messages says how many), waiting up to the destination's send_timeout for
    // room. `watch` sees each frame once, as it is received (or, with watched_frames::first,
    // each message's first frame only). Throws: what the destination's send throws, for the one
    // message it refused (those before it have moved).
    relayed step(const frame_watch& watch = {}, watched_frames which = watched_frames::all);

  private:
    static detail::receiver_impl* cell(puller& role);
    static detail::receiver_impl* cell(subscriber& role);
    static detail::receiver_impl* cell(xsubscriber& role);
    static detail::sender_impl* cell(pusher& role);
    static detail::sender_impl* cell(publisher& role);
    static detail::sender_impl* cell(xpublisher& role);

    std::unique_ptr<detail::relay_impl> impl_;
};

}  // namespace zpat
