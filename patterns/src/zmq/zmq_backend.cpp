// The ZeroMQ backend: tcp://, ipc:// and inproc:// through libzmq. Every cell but the plain
// datagram is built, and its relay moves frames between its own sockets without copying them.

#include <algorithm>

#include "zmq_cells.hpp"
#include "zpat/core/error.hpp"

namespace zpat::detail {
namespace {

std::string refusal(role_kind role) {
    if (role == role_kind::datagram) {
        return "a datagram on ZeroMQ endpoints is not supported: ZeroMQ carries messages on "
               "connections; use raw+udp:// for plain UDP datagrams";
    }
    return {};
}

std::unique_ptr<datagram_impl> refuse_datagram(const std::vector<endpoint>&, const options&) {
    throw unsupported_error(refusal(role_kind::datagram));
}

}  // namespace

bool own_zmtp_fits(const std::vector<endpoint>& endpoints, const options& opts) {
    return !opts.curve && std::all_of(endpoints.begin(), endpoints.end(), [](const endpoint& e) {
        return e.scheme == "tcp" && e.side == link::connect;
    });
}

const backend& zmq_backend() {
    // A Majordomo client is a REQ socket with the Lazy Pirate recovery: the requester itself.
    static const backend table{"zeromq",
                               0,
                               true,
                               true,
                               false,
                               false,
                               refusal,
                               make_zmq_requester,
                               make_zmq_replier,
                               make_zmq_pusher,
                               make_zmq_puller,
                               make_zmq_publisher,
                               make_zmq_subscriber,
                               make_zmq_requester,
                               make_zmq_service_worker,
                               make_zmq_stream,
                               refuse_datagram,
                               make_zmq_router,
                               make_zmq_dealer,
                               make_zmq_xpublisher,
                               make_zmq_xsubscriber,
                               make_zmq_relay};
    return table;
}

}  // namespace zpat::detail
