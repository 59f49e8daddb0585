#pragma once
// Router: the routing end of request-reply, for brokers and servers that answer many peers.
// Every message it receives starts with a frame naming the peer it came from (an identity that
// libzmq makes up, or the one the peer set); a message it sends goes to the peer its first frame
// names, which that frame does not reach. The ZeroMQ Guide's ROUTER socket, and only on ZeroMQ
// endpoints: raw+tcp:// and raw+udp:// refuse it with unsupported_error. Move-only; not
// thread-safe.
//
// A received message over options::max_message_size is dropped and counted; a single frame over
// twice that closes its connection, so a hostile length never gets its memory.

#include <cstdint>
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
class router_impl;
}  // namespace detail

class router {
  public:
    // Binds (by default) `endpoints`. Throws: endpoint_error, connection_error,
    // unsupported_error.
    explicit router(std::string_view endpoints, const options& opts = {});
    ~router();
    router(router&&) noexcept;
    router& operator=(router&&) noexcept;

    // Sends frames 1.. of `msg` to the peer that frame 0 names.
    // Returns: false when the message was dropped: that peer is not connected (gone, or never
    // was; counted in unroutable()) or its queue had no room within options::send_timeout.
    // Throws: message_size_error; state_error for a message with no frames.
    bool send(const message& msg);
    // Waits up to `timeout` for the next message: frame 0 names its sender. nullopt on timeout.
    std::optional<message> receive(milliseconds timeout = forever);
    // The same into `into`, reusing its storage. Returns false on timeout.
    bool receive(message& into, milliseconds timeout = forever);
    // Messages dropped on receipt because they exceeded options::max_message_size or
    // max_message_frames.
    std::uint64_t oversized_dropped() const noexcept;
    // Messages sent to a peer that was not connected.
    std::uint64_t unroutable() const noexcept;
    // A CURVE server's (options::curve): the public key (Z85) that the sender of the message the
    // last receive() returned was authenticated with. Empty without CURVE.
    const std::string& peer_key() const noexcept;
    const std::vector<std::string>& endpoints() const;
    // What its connections went through (connection_counts.hpp). Thread-safe.
    connection_counts connections() const;
    // Its connections open now: peer, endpoint, since when and, on raw TCP, what each carried
    // (connection_info.hpp). Thread-safe.
    std::vector<connection_info> open_connections() const;
    detail::poll_handle poll_handle() const;

  private:
    std::unique_ptr<detail::router_impl> impl_;
};

}  // namespace zpat
