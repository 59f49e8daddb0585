#pragma once
// The service pattern (Majordomo, MDP/0.1): clients call services by name through a broker, and
// workers register with the broker to serve one service each. The broker (zpat-broker, or
// zpat::broker::broker inside an application) picks the worker that has waited longest.
//
//   zpat::service_client client(">tcp://127.0.0.1:5555");
//   auto reply = client.request("echo", {"hello"});
//
//   zpat::service_worker worker(">tcp://127.0.0.1:5555", "echo");
//   worker.serve([](zpat::message request) { return request; });
//
// Majordomo runs on the ZeroMQ backend (tcp://, ipc://, inproc://); other backends refuse these
// roles with unsupported_error. Both are move-only; neither is thread-safe, except
// service_worker::stop().

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zpat/core/handler.hpp"
#include "zpat/core/message.hpp"
#include "zpat/core/options.hpp"

namespace zpat {

namespace detail {
class requester_impl;
class service_worker_impl;
}  // namespace detail

class service_client {
  public:
    // Connects to the broker at `broker`. Uses options::request_timeout and options::retries as
    // the requester does: a request that gets no reply is sent again on a fresh connection.
    // Throws: endpoint_error, connection_error, unsupported_error.
    explicit service_client(std::string_view broker, const options& opts = {});
    ~service_client();
    service_client(service_client&&) noexcept;
    service_client& operator=(service_client&&) noexcept;

    // Calls `service` with `body` (one or more frames). Returns the reply body, or nullopt when
    // every attempt timed out (no worker, or the broker is down). Throws: message_size_error,
    // decode_error when the broker answers with something that is not an MDP/0.1 reply from
    // `service`.
    std::optional<message> request(std::string_view service, const message& body);
    // Attempts made by the last request() (1 when the first one was answered).
    int last_attempts() const noexcept;

  private:
    std::unique_ptr<detail::requester_impl> impl_;
};

class service_worker {
  public:
    // Builds the reply body from a request body.
    using handler = request_handler;

    // Connects to the broker at `broker` and registers for `service`: on libzmq (CURVE, ipc://,
    // inproc://, options::io = io_model::io_thread) at once, in the background; on zpat's own
    // ZMTP (tcp:// by default, options.hpp's io_model) from the first receive() or serve(), on
    // the thread that calls it, and again on each new connection. It heartbeats every
    // options::heartbeat_interval, presumes the broker gone after options::heartbeat_liveness
    // silent intervals, and then reconnects and registers again after
    // options::reconnect_interval. Given several brokers (">tcp://a:5555,>tcp://b:5555": a
    // Binary Star pair, or brokers sharing clients), it registers with each, on a connection and
    // heartbeat of its own, and serves requests from any of them. Throws: endpoint_error,
    // connection_error, unsupported_error; std::invalid_argument for an empty service name or one
    // starting with "mmi." (those belong to the broker).
    service_worker(std::string_view broker, std::string_view service, const options& opts = {});
    ~service_worker();
    service_worker(service_worker&&) noexcept;
    service_worker& operator=(service_worker&&) noexcept;

    // Waits up to `timeout` for the next request and returns its body; nullopt on timeout or
    // after stop(). Heartbeats keep flowing while it waits, but not between receive() and
    // reply(): answer within heartbeat_interval x heartbeat_liveness, or use serve().
    std::optional<message> receive(milliseconds timeout = forever);
    // Answers the request returned by the last receive(). Throws: state_error when none is
    // pending, message_size_error.
    void reply(const message& body);
    // Drops the request returned by the last receive() without answering it: the client times
    // out and may retry. MDP cannot refuse a request, so the worker leaves the broker and
    // registers again to be given new work. Throws: state_error when none is pending.
    void abandon();

    // Serves requests with `on_request`, one at a time, until stop(); blocks the caller. A
    // handler that throws loses that request (the client retries). A handler slower than
    // heartbeat_interval x heartbeat_liveness makes the broker presume this worker dead: zpat's
    // broker still passes its reply on, and the worker then registers again.
    void serve(const handler& on_request);
    // Makes receive() and serve() return, and tells the broker this worker is leaving. Safe from
    // any thread; idempotent.
    void stop();

    // How many times the worker lost the broker (or was told to disconnect) and registered anew.
    std::uint64_t reconnects() const noexcept;
    // Messages from the broker that were not valid MDP/0.1 worker commands, discarded.
    std::uint64_t malformed_commands() const noexcept;
    std::uint64_t handler_failures() const noexcept;
    const std::vector<std::string>& endpoints() const;

  private:
    std::unique_ptr<detail::service_worker_impl> impl_;
};

}  // namespace zpat
