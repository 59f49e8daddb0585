#pragma once
// Stream: plain TCP bytes, with no framing or greeting of zpat's, for peers that speak a
// protocol of their own (the tutorial's application protocol, HTTP, a line protocol). One stream
// holds many connections: it binds and accepts, or connects (and reconnects, with backoff), and
// tells each connection apart by an id. What arrives is, per connection, an `opened` event, the
// bytes in the pieces the transport delivered them (the peer's message boundaries are not kept:
// framing is the application's), and a `closed` event when the peer closes or the connection
// fails. On raw+tcp:// it is plain sockets on the raw backend's event loop. On ZeroMQ it is a
// ZMQ_STREAM socket, which binds tcp:// or ipc:// but cannot connect: libzmq does not tell a
// connecting ZMQ_STREAM that the other side closed, so that cell is refused. A connecting
// stream redials with backoff until it is connected, and again after its connection ends; each
// connection has a new id. Move-only; not thread-safe.
//
//   zpat::stream server("@raw+tcp://127.0.0.1:65432");
//   while (auto ev = server.receive()) {
//       if (ev->what == zpat::stream::event::type::data) server.send(ev->connection, ev->bytes);
//   }

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zpat/core/options.hpp"
#include "zpat/core/poll_handle.hpp"
#include "zpat/core/stream_event.hpp"

namespace zpat {

namespace detail {
class stream_impl;
}  // namespace detail

class stream {
  public:
    using connection_id = stream_connection_id;
    using event = stream_event;

    // Binds (by default) or connects `endpoints`. Throws: endpoint_error, connection_error,
    // unsupported_error (a transport that is not a byte stream).
    explicit stream(std::string_view endpoints, const options& opts = {});
    ~stream();
    stream(stream&&) noexcept;
    stream& operator=(stream&&) noexcept;

    // Waits up to `timeout` for the next event. Events of one connection come in order; between
    // connections they are taken in turn. Returns nullopt on timeout. A connection with
    // options::receive_high_water_mark pieces waiting is not read until some are taken.
    std::optional<event> receive(milliseconds timeout = forever);
    // Queues `bytes` for `connection`, waiting up to options::send_timeout while it already has
    // options::send_high_water_mark sends unwritten. Returns false when the connection has gone
    // or no room came in time. Throws: message_size_error over options::max_message_size.
    bool send(connection_id connection, std::string_view bytes);
    // Closes `connection` once what was sent to it is written. No `closed` event follows. On
    // ZeroMQ the close is carried out while the stream is next waited on (receive or a poll),
    // as libzmq does its work during the application's calls.
    void close(connection_id connection);

    const std::vector<std::string>& endpoints() const;
    detail::poll_handle poll_handle() const;

  private:
    std::unique_ptr<detail::stream_impl> impl_;
};

}  // namespace zpat
