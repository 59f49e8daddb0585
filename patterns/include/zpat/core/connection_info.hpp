#pragma once
// One open connection of a role, as a role's open_connections() lists them: who is at the other
// end, through which endpoint, since when, and what it carried. raw+tcp:// and raw+tls:// count
// messages and bytes per connection; libzmq counts nothing per connection, so a ZeroMQ role
// reports for its tcp:// connections the bytes the kernel counts (TCP_INFO), no messages, and for
// ipc:// nothing. raw+udp has no connections: its roles list none (a publisher's subscribers are
// counted in connections()).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace zpat {

// What one connection carried: messages, and their bytes on the wire (framing included).
// raw+: inbound counts what was decoded; outbound what was written to the socket. ZeroMQ over
// tcp://: the bytes the kernel received and those the peer acknowledged, ZMTP's greeting,
// handshake, heartbeats and framing included; its messages are not counted (nullopt).
struct connection_traffic {
    std::optional<std::uint64_t> messages_in;
    std::uint64_t bytes_in = 0;
    std::optional<std::uint64_t> messages_out;
    std::uint64_t bytes_out = 0;
};

struct connection_info {
    // The other end: "address:port" over TCP ("[address]:port" for IPv6); over ipc://, the
    // peer's process ("pid 1234") when the kernel tells it.
    std::string peer;
    // This role's endpoint the connection came through: the bind endpoint that accepted it or
    // the connect endpoint that made it.
    std::string endpoint;
    // The role the peer's greeting named (raw), or "" where the backend does not tell (ZeroMQ).
    std::string peer_role;
    // When it was connected (raw: and greeted).
    std::chrono::system_clock::time_point since{};
    // Empty where nothing counts per connection (ZeroMQ over ipc://).
    std::optional<connection_traffic> traffic;
};

}  // namespace zpat
