#pragma once
// Dealer: the asynchronous end of request-reply. It sends each message to its next connected
// peer in turn and receives from all of them, fairly, with the frames exactly as they are: no
// envelope is added or taken, so a dealer can stand in for a requester that keeps several
// requests in flight, or carry a router's envelopes on to replier workers (the ZeroMQ Guide's
// DEALER socket, and its request-reply queue). Only on ZeroMQ endpoints: raw+tcp:// and
// raw+udp:// refuse it with unsupported_error. Move-only; not thread-safe.
//
//   zpat::dealer d("tcp://127.0.0.1:5555");        // connects unless written "@tcp://..."
//   d.send(zpat::message{"", "hello"});             // to a replier: the empty delimiter first
//   auto reply = d.receive(1s);                     // {"", "world"}

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
class dealer_impl;
}  // namespace detail

class dealer {
  public:
    // Connects (by default) to `endpoints`. Throws: endpoint_error, connection_error,
    // unsupported_error.
    explicit dealer(std::string_view endpoints, const options& opts = {});
    ~dealer();
    dealer(dealer&&) noexcept;
    dealer& operator=(dealer&&) noexcept;

    // Queues `msg` for the next peer in turn. Returns false when none had room within
    // options::send_timeout. Throws: message_size_error; state_error for no frames.
    bool send(const message& msg);
    // Waits up to `timeout` for the next message from any peer. nullopt on timeout.
    std::optional<message> receive(milliseconds timeout = forever);
    // The same into `into`, reusing its storage. Returns false on timeout.
    bool receive(message& into, milliseconds timeout = forever);
    // Messages dropped on receipt because they exceeded options::max_message_size or
    // max_message_frames.
    std::uint64_t oversized_dropped() const noexcept;
    const std::vector<std::string>& endpoints() const;
    // What its connections went through (connection_counts.hpp). Thread-safe.
    connection_counts connections() const;
    // Its connections open now (connection_info.hpp). Thread-safe.
    std::vector<connection_info> open_connections() const;
    detail::poll_handle poll_handle() const;

  private:
    std::unique_ptr<detail::dealer_impl> impl_;
};

}  // namespace zpat
