#pragma once
// Request-reply: a requester sends a request and waits for its reply; a replier answers.
//
// On the ZeroMQ backend a requester is a REQ socket and a replier a ROUTER socket, so any REQ or
// DEALER peer (with the empty delimiter frame) can call a replier and any REP or ROUTER peer can
// serve a requester. Both are move-only; neither is thread-safe, except replier::stop().

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zpat/core/connection_counts.hpp"
#include "zpat/core/connection_info.hpp"
#include "zpat/core/handler.hpp"
#include "zpat/core/message.hpp"
#include "zpat/core/options.hpp"
#include "zpat/core/poll_handle.hpp"

namespace zpat {

namespace detail {
class requester_impl;
class replier_impl;
}  // namespace detail

class requester {
  public:
    // Connects (by default) to `endpoints`. Throws: endpoint_error, connection_error,
    // unsupported_error.
    explicit requester(std::string_view endpoints, const options& opts = {});
    ~requester();
    requester(requester&&) noexcept;
    requester& operator=(requester&&) noexcept;

    // Sends `request` and waits up to options::request_timeout for the reply. When none comes,
    // the connection is dropped and reopened and the request sent again, options::retries times
    // (the Guide's Lazy Pirate). Given several servers to connect to, each attempt goes to the
    // next one in turn, so that one server down or silent costs an attempt, not the request
    // (the Guide's Freelance client, model one), and requests stay with the server that answered
    // last (the Guide's Binary Star client: the active broker of a pair, once found).
    // Returns: the reply, or nullopt when every attempt timed out.
    // Throws: message_size_error when `request` exceeds options::max_message_size;
    // security_error, with the reason, as soon as a server refuses this client's CURVE or TLS
    // handshake (options::curve, options::tls), instead of waiting out every attempt.
    std::optional<message> request(const message& request);
    // Attempts made by the last request() (1 when the first one was answered).
    int last_attempts() const noexcept;

    // The endpoints in use; a bound "tcp://host:*" appears with its real port.
    const std::vector<std::string>& endpoints() const;
    // What its connections went through (connection_counts.hpp says what each backend
    // counts). Thread-safe.
    connection_counts connections() const;
    // Its connections open now: peer, endpoint, since when and, on raw TCP, what each carried
    // (connection_info.hpp). Thread-safe.
    std::vector<connection_info> open_connections() const;

  private:
    std::unique_ptr<detail::requester_impl> impl_;
};

class replier {
  public:
    // Builds the reply to one request. May run on several threads at once (see serve()).
    using handler = request_handler;

    // Binds (by default) `endpoints`. Throws: endpoint_error, connection_error,
    // unsupported_error.
    explicit replier(std::string_view endpoints, const options& opts = {});
    ~replier();
    replier(replier&&) noexcept;
    replier& operator=(replier&&) noexcept;

    // One request at a time: waits up to `timeout` for the next request. Returns nullopt on
    // timeout. A request must be answered with reply() before the next receive().
    std::optional<message> receive(milliseconds timeout = forever);
    // Answers the request returned by the last receive(). Throws: state_error when no request is
    // pending, message_size_error when `reply` is too large.
    void reply(const message& reply);

    // Serves requests with `on_request` on `threads` threads until stop(); blocks the caller.
    // Replies always reach the client that sent the request. A handler that throws loses that
    // one request (the client times out and may retry) and is counted in handler_failures().
    void serve(const handler& on_request, unsigned threads = 1);
    // Makes serve() return after the replies already being computed are sent (bounded by
    // options::linger). Safe from any thread, including a signal-handling one; idempotent.
    void stop();

    std::uint64_t handler_failures() const noexcept;
    // Requests discarded because they had no envelope delimiter or were too large (ZeroMQ), or
    // were not zpat requests (raw+udp datagrams). raw+tcp closes such a peer instead, counted
    // in connections().malformed.
    std::uint64_t malformed_requests() const noexcept;
    const std::vector<std::string>& endpoints() const;
    // What its connections went through (connection_counts.hpp says what each backend
    // counts). Thread-safe.
    connection_counts connections() const;
    // Its connections open now: peer, endpoint, since when and, on raw TCP, what each carried
    // (connection_info.hpp). Thread-safe.
    std::vector<connection_info> open_connections() const;
    detail::poll_handle poll_handle() const;

  private:
    std::unique_ptr<detail::replier_impl> impl_;
};

}  // namespace zpat
