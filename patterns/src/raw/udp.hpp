#pragma once
// The raw backend over UDP (docs/wire-format.md, section 5): one datagram per message, with a
// 16-byte header naming role, kind and an id (request id or sequence number). Datagrams are
// read on the raw I/O thread (io_thread.hpp), as TCP pipes are, into a bounded queue that the
// caller's receive() takes from; sends go straight out from the caller's thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wire.hpp"
#include "zpat/core/endpoint.hpp"
#include "zpat/core/message.hpp"
#include "zpat/core/options.hpp"

namespace zpat::detail::udp {

inline constexpr std::size_t header_size = 16;
// A cookie, when the header's flags say one is there, follows the header.
inline constexpr std::size_t cookie_size = 8;
// The largest UDP payload over IPv4.
inline constexpr std::size_t max_datagram = 65507;

enum class kind : char {
    request = 'Q',      // requester -> replier, id = request id
    reply = 'R',        // replier -> requester, id = the request's id
    subscribe = 'S',    // subscriber -> publisher: frames = every prefix it wants (a refresh)
    goodbye = 'X',      // subscriber -> publisher: forget me
    publication = 'P',  // publisher -> subscriber, id = that subscriber's sequence number
    cookie = 'C',       // publisher or replier -> an address to prove: id = the cookie to echo
};

struct datagram {
    wire::role from = wire::role::requester;
    udp::kind what = kind::request;
    std::uint64_t id = 0;
    message body;
    // The cookie a requester or subscriber echoes, once it has one, to prove its address.
    std::optional<std::uint64_t> cookie;
};

// Encodes `d` into `out`. Throws: message_size_error when it does not fit one datagram.
void encode(const datagram& d, std::string& out);
// Encodes the `C` datagram that hands `cookie` to an address: a header alone, never larger
// than the datagram it answers.
void encode_cookie(wire::role from, std::uint64_t cookie, std::string& out);
// Rewrites the id of the datagram `encoded` holds, leaving the rest: a publisher encodes a
// message once and stamps each subscriber's sequence number on it.
void set_id(std::string& encoded, std::uint64_t id);
// Decodes one datagram from a peer expected to be `peer_role`. Returns nullopt for anything
// else (wrong magic, version or role, malformed body, a body over the limits): a stray datagram
// is simply ignored.
std::optional<datagram> decode(std::string_view bytes, wire::role peer_role,
                               std::size_t max_message_size,
                               std::size_t max_message_frames = wire::max_frames);
// The header alone (and the cookie, if any), as decode() checks it; the body is left unread.
std::optional<datagram> decode_header(std::string_view bytes, wire::role peer_role);

// An IPv4/IPv6 UDP socket: bound to the endpoints marked '@', or aimed at one '>' endpoint.
// Thread-safe.
class channel {
  public:
    struct address {
        std::string bytes;  // the sockaddr, opaque
        friend bool operator==(const address&, const address&) = default;
        friend bool operator<(const address& a, const address& b) { return a.bytes < b.bytes; }
    };

    // Throws: connection_error naming the endpoint that could not be bound or resolved;
    // endpoint_error for more than one endpoint (one UDP socket talks to one peer address).
    // Up to options::receive_high_water_mark datagrams (and 64 MiB) wait to be received; more
    // are dropped, as a full socket buffer drops them, and counted.
    channel(const std::vector<endpoint>& endpoints, const options& opts);
    ~channel();
    channel(const channel&) = delete;
    channel& operator=(const channel&) = delete;

    // Sends `bytes` to `to` (or to the connected peer). Returns false when the kernel refused
    // it (for example no route); UDP promises nothing more.
    bool send(std::string_view bytes, const address* to = nullptr);
    // Datagrams for which `take` returns true are handled on the I/O thread as they arrive and
    // never queued: a role answers protocol chatter there even while nobody calls receive().
    // An empty function removes it; once set_filter returns, the old one is not running and
    // will not run again.
    using filter = std::function<bool(std::string_view bytes, const address& from)>;
    void set_filter(filter take);

    // Waits up to `timeout` for a datagram. Returns false on timeout or interruption.
    bool receive(std::string& bytes, address& from, std::chrono::milliseconds timeout);
    // Makes a waiting or later receive() return false until clear_interrupt().
    void interrupt();
    void clear_interrupt();

    // The address as numeric text: "host:port", or "[host]:port" for IPv6.
    static std::string text(const address& a);
    // The host part alone (the IP address as bytes), to count what one host holds.
    static std::string host(const address& a);

    // Readable while datagrams wait: what zpat::poller waits on.
    int fd() const noexcept;
    const std::string& resolved() const noexcept { return resolved_; }
    bool bound() const noexcept { return bound_; }
    // Datagrams dropped because the queue was full.
    std::uint64_t dropped() const;

  private:
    struct state;
    std::shared_ptr<state> state_;  // shared with its handlers on the I/O thread
    bool bound_ = false;
    std::string resolved_;
};

}  // namespace zpat::detail::udp
