#pragma once
// What one subscriber may make a ZeroMQ publisher (an XPUB) hold: options::max_subscriptions and
// max_subscription_prefix, kept per connection as raw+tcp publishers keep them.
//
// libzmq tells which connection each subscription came from (its descriptor, ZMQ_SRCFD, in the
// message's metadata) but has no call that closes one peer of an XPUB. A connection past a
// limit is therefore ended under libzmq: connect() with AF_UNSPEC on its descriptor resets a TCP
// connection and drops what it has not read (shutdown() where that is refused, as for ipc://),
// so libzmq's next read fails and it closes the connection as one whose peer left, unsubscribing
// everything it held. A connection is its descriptor and the peer the kernel names for it, so a
// reused descriptor starts afresh, and the kernel is asked again just before a cut, so one that
// has left meanwhile is not touched. The cut is logged and counted in connections().over_limits.
//
// What this cannot do: libzmq reads subscriptions eagerly, so those it has already taken from
// the connection still come after the cut (a flood is stopped within what had arrived); and
// subscriptions read only after their connection has ended are not counted.

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/log_line.hpp"
#include "zmq_socket.hpp"

namespace zpat::detail {

class subscription_limits {
  public:
    // `socket` must be an XPUB whose sources are tracked (zmq_socket::track_sources).
    explicit subscription_limits(zmq_socket& socket);

    // The subscription message (0x01 or 0x00, then the prefix) that the socket received last.
    void note(std::string_view subscription);

  private:
    struct connection {
        std::string peer;      // as the kernel names it (peer_of_descriptor)
        std::size_t held = 0;  // subscriptions held
        bool cut = false;      // ended for a limit: what still comes from it is not counted
    };
    void cut(int fd, connection& c, const char* why, throttled_log& log);

    zmq_socket& socket_;
    std::size_t max_subscriptions_;
    std::size_t max_prefix_;
    std::unordered_map<int, connection> connections_;  // by descriptor: as many as can be open
    throttled_log count_log_;                          // one line a second at most for each limit
    throttled_log prefix_log_;
};

}  // namespace zpat::detail
