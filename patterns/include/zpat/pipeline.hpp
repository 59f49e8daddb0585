#pragma once
// Pipeline: pushers hand messages to pullers. A pusher spreads its messages round-robin over its
// connected pullers; a puller takes messages fairly from all its connected pushers. Messages are
// never dropped: a pusher waits at the high-water mark. On the ZeroMQ backend these are PUSH and
// PULL sockets. Move-only; not thread-safe.

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
class sender_impl;
class receiver_impl;
}  // namespace detail

class relay;

class pusher {
  public:
    // Connects (by default) to `endpoints`. Throws: endpoint_error, connection_error,
    // unsupported_error.
    explicit pusher(std::string_view endpoints, const options& opts = {});
    ~pusher();
    pusher(pusher&&) noexcept;
    pusher& operator=(pusher&&) noexcept;

    // Queues `msg` for the next puller in turn, waiting up to options::send_timeout for room.
    // Returns: false when no room came in time. Throws: message_size_error.
    bool send(const message& msg);
    const std::vector<std::string>& endpoints() const;
    // What its connections went through (connection_counts.hpp says what each backend
    // counts). Thread-safe.
    connection_counts connections() const;
    // Its connections open now: peer, endpoint, since when and, on raw TCP, what each carried
    // (connection_info.hpp). Thread-safe.
    std::vector<connection_info> open_connections() const;

  private:
    friend class relay;
    std::unique_ptr<detail::sender_impl> impl_;
};

class puller {
  public:
    // Binds (by default) `endpoints`. Throws: endpoint_error, connection_error,
    // unsupported_error.
    explicit puller(std::string_view endpoints, const options& opts = {});
    ~puller();
    puller(puller&&) noexcept;
    puller& operator=(puller&&) noexcept;

    // Waits up to `timeout` for the next message. Returns nullopt on timeout.
    std::optional<message> receive(milliseconds timeout = forever);
    // The same into `into`, reusing its storage. Returns false on timeout.
    bool receive(message& into, milliseconds timeout = forever);
    // Messages discarded because they exceeded options::max_message_size or
    // max_message_frames.
    std::uint64_t oversized_dropped() const noexcept;
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
    std::unique_ptr<detail::receiver_impl> impl_;
};

}  // namespace zpat
