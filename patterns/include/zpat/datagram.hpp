#pragma once
// Datagram: plain UDP datagrams, with no header of zpat's, for peers that speak a protocol of
// their own (the socket tutorials' UDP echo and chat, DNS-like request-answer, metrics lines):
// the UDP sibling of zpat::stream. One datagram is one message; UDP keeps the boundaries, and
// promises nothing else: a datagram may be lost, repeated or reordered, and nobody is told.
// A bound datagram receives from anyone and answers the address a datagram came from; a
// connected one (">raw+udp://host:port") talks to that one peer only, and the system drops what
// others send it. raw+udp:// only: ZeroMQ carries messages on connections, and raw+tcp:// is a
// byte stream (use zpat::stream). Move-only; receive and send may be called from different
// threads.
//
//   zpat::datagram server("raw+udp://127.0.0.1:6789");
//   while (auto got = server.receive()) {
//       server.send(got->from, got->bytes);
//   }

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zpat/core/datagram_peer.hpp"
#include "zpat/core/options.hpp"
#include "zpat/core/poll_handle.hpp"

namespace zpat {

namespace detail {
class datagram_impl;
}  // namespace detail

class datagram {
  public:
    using peer = datagram_peer;
    using received = datagram_received;

    // Binds (by default) or connects the one endpoint. Throws: endpoint_error;
    // connection_error naming an endpoint that cannot be bound or resolved; unsupported_error
    // on any backend but raw+udp://.
    explicit datagram(std::string_view endpoint, const options& opts = {});
    ~datagram();
    datagram(datagram&&) noexcept;
    datagram& operator=(datagram&&) noexcept;

    // Waits up to `timeout` for the next datagram. Returns nullopt on timeout. Up to
    // options::receive_high_water_mark datagrams wait to be taken; more, and any larger than
    // options::max_message_size, are dropped and counted in dropped().
    std::optional<received> receive(milliseconds timeout = forever);
    // Sends one datagram to the connected peer. Returns false when the system refused it (no
    // route, or an earlier datagram found nobody listening); true says only that it left.
    // Throws: state_error on a bound datagram, which has no peer of its own; message_size_error
    // over options::max_message_size or one datagram's 65,507 bytes.
    bool send(std::string_view bytes);
    // Sends one datagram to `to`, a peer a datagram came from. As send(bytes) otherwise.
    bool send(const peer& to, std::string_view bytes);

    std::uint64_t dropped() const;
    const std::vector<std::string>& endpoints() const;
    detail::poll_handle poll_handle() const;

  private:
    std::unique_ptr<detail::datagram_impl> impl_;
};

}  // namespace zpat
