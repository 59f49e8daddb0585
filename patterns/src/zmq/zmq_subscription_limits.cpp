#include "zmq_subscription_limits.hpp"

#include <sys/socket.h>

#include "zmq_watch.hpp"

namespace zpat::detail {

subscription_limits::subscription_limits(zmq_socket& socket)
    : socket_(socket),
      max_subscriptions_(socket.opts().max_subscriptions),
      max_prefix_(socket.opts().max_subscription_prefix) {}

void subscription_limits::note(std::string_view subscription) {
    if ((max_subscriptions_ == 0 && max_prefix_ == 0) || subscription.empty() ||
        (subscription[0] != '\x00' && subscription[0] != '\x01')) {
        return;
    }
    const int fd = socket_.source();
    // Which connection: the descriptor and its peer now, since a descriptor is reused.
    std::string peer = fd < 0 ? std::string{} : peer_of_descriptor(fd);
    if (peer.empty()) {
        return;  // libzmq's own unsubscriptions for a peer that left, or it has left since
    }
    connection& c = connections_[fd];
    if (c.peer != peer) {
        c = connection{.peer = std::move(peer)};
    }
    if (c.cut) {
        return;
    }
    const bool subscribe = subscription[0] == '\x01';
    if (!subscribe) {
        c.held -= c.held > 0 ? 1 : 0;
        return;
    }
    if (max_prefix_ != 0 && subscription.size() - 1 > max_prefix_) {
        cut(fd, c, "a subscription prefix longer than options::max_subscription_prefix",
            prefix_log_);
    } else if (max_subscriptions_ != 0 && ++c.held > max_subscriptions_) {
        cut(fd, c, "a subscriber past options::max_subscriptions", count_log_);
    }
}

void subscription_limits::cut(int fd, connection& c, const char* why, throttled_log& log) {
    // Asked of the kernel again, not of the socket's monitor: that is a thread of its own and can
    // still know a reused descriptor as the connection before. One that left meanwhile is not
    // marked, so the connection that takes its descriptor next starts afresh.
    if (peer_of_descriptor(fd) != c.peer) {
        return;
    }
    c.cut = true;
    log.say("publisher", "cut off the subscriber at " + c.peer + ": " + why + " (" +
                             std::to_string(c.held) + " subscriptions held)");
    ++socket_.watched().over_limits;
    sockaddr unspecified{};
    unspecified.sa_family = AF_UNSPEC;
    // On Linux this resets a TCP connection: what it has not read is dropped, and so is what
    // its peer still sends.
    if (::connect(fd, &unspecified, sizeof unspecified) != 0) {
        (void)::shutdown(fd, SHUT_RDWR);
    }
}

}  // namespace zpat::detail
