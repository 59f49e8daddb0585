// The ZeroMQ backend: tcp://, ipc:// and inproc:// through libzmq. Every cell is built, and
// its relay moves frames between its own sockets without copying them.

#include "zmq_cells.hpp"

namespace zpat::detail {
namespace {

std::string builds_every_cell(role_kind) {
    return {};
}

}  // namespace

const backend& zmq_backend() {
    // A Majordomo client is a REQ socket with the Lazy Pirate recovery: the requester itself.
    static const backend table{"zeromq",
                               0,
                               true,
                               builds_every_cell,
                               make_zmq_requester,
                               make_zmq_replier,
                               make_zmq_pusher,
                               make_zmq_puller,
                               make_zmq_publisher,
                               make_zmq_subscriber,
                               make_zmq_requester,
                               make_zmq_service_worker,
                               make_zmq_stream,
                               make_zmq_router,
                               make_zmq_xpublisher,
                               make_zmq_xsubscriber,
                               make_zmq_relay};
    return table;
}

}  // namespace zpat::detail
