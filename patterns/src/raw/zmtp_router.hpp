#pragma once
// A ZeroMQ ROUTER of zpat's own (zmtp_socket.hpp: ZMTP on its own sockets, I/O on the calling
// thread). libzmq hands every message between its I/O thread and the caller's, a wakeup each
// way; a broker that routes every message it reads pays for two of them per hop. This one does
// its I/O inside receive() and send(), so a message read is routed and written by the same
// thread, without a wakeup in between (docs/performance.md, "Majordomo").
//
// As libzmq's ROUTER with ZMQ_ROUTER_MANDATORY: every received message starts with the identity
// of its sender (its READY's Identity if it gave one not in use, else 0x00 and a counter); a
// message to an identity not connected fails and is counted. Receiving is bounded: the sockets
// are read only when what was read before has been taken, so a sender faster than the caller
// waits in its own TCP buffers. A message over max_message_size (or max_message_frames) is
// dropped and counted; one whose encoding passes twice the limits closes its connection
// (zmtp::decoder). Not thread-safe, but for connections() and open_connections().

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "zmtp_socket.hpp"
#include "zpat/core/message.hpp"

namespace zpat::detail {

class zmtp_router final : public zmtp_socket {
  public:
    // Binds every endpoint of `binds` (tcp only). Throws: connection_error naming the endpoint.
    zmtp_router(const std::vector<endpoint>& binds, const options& opts);
    ~zmtp_router() override;
    zmtp_router(const zmtp_router&) = delete;
    zmtp_router& operator=(const zmtp_router&) = delete;

    // The next message, its sender's identity first, waiting up to `timeout` while doing the
    // I/O that is ready. False on timeout.
    bool receive(message& into, milliseconds timeout);
    // Queues frames 1.. of `msg` to the peer frame 0 names, and writes what the socket takes.
    // False when that peer is not connected (counted in unroutable()) or has
    // send_high_water_mark messages (or send_high_water_bytes) unwritten.
    bool send(const message& msg);

    std::uint64_t unroutable() const noexcept { return unroutable_; }
    std::uint64_t oversized_dropped() const noexcept { return oversized_; }

  private:
    struct named_peer : peer {
        using peer::peer;
        std::string identity;  // empty until READY
    };

    std::unique_ptr<peer> make_peer(int fd, const zmtp::connection::settings& settings) override {
        return std::make_unique<named_peer>(fd, settings);
    }
    void readable(peer& p) override;
    void greeted(peer& p) override;
    void closing(peer& p) override;

    std::unordered_map<std::string, named_peer*> named_;  // by identity
    std::uint32_t next_identity_ = 0;
    std::uint64_t unroutable_ = 0;
    std::uint64_t oversized_ = 0;
};

}  // namespace zpat::detail
