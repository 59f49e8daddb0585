#pragma once
// The TCP plumbing the raw backend's sockets and zpat's own ZMTP share: listening on a bind
// endpoint, the address of a connect endpoint, a peer's address, and the redial backoff.

#include <memory>
#include <random>
#include <string>
#include <utility>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include "zpat/core/endpoint.hpp"
#include "zpat/core/options.hpp"

namespace zpat::detail {

// "host:port" of an endpoint whose address the registry has checked, with the wildcards
// ("*") and an IPv6 address's brackets ("[::1]") turned into what the resolver takes. Also
// raw+udp's.
std::pair<std::string, std::string> host_and_port(const endpoint& ep);

// Binds and listens on `ep`. Returns the acceptor and the endpoint's URL with the real address
// (the port the system picked for ":*"). Throws: connection_error naming the endpoint.
std::pair<std::unique_ptr<asio::ip::tcp::acceptor>, std::string> listen_on(asio::io_context& io,
                                                                           const endpoint& ep);

// "address:port", the address in brackets when it is IPv6 ("[::1]:5555").
std::string address_text(const asio::ip::tcp::endpoint& at);

// The other end of connected socket `fd`, as "address:port" ("[address]:port" for IPv6); "?"
// when the system cannot tell.
std::string peer_text(int fd);

// Writes the front of `out` to non-blocking socket `fd` until the socket takes no more or
// `out` is empty, and erases what was written. False when the connection is broken (an error
// other than EAGAIN; EINTR is tried again).
bool write_front(int fd, std::string& out);

// Reconnection waits 100 ms after a failure, doubling up to 5 s, each wait varied by up to a
// fifth either way so that many peers of one server do not all return at once.
class redial_backoff {
  public:
    milliseconds next();
    void reset() { wait_ = first; }

  private:
    static constexpr milliseconds first{100};
    static constexpr milliseconds max{5000};
    milliseconds wait_ = first;
    std::mt19937 random_{std::random_device{}()};
};

}  // namespace zpat::detail
