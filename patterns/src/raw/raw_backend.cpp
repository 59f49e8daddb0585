// The raw backend: zpat's own wire format (docs/wire-format.md) on plain TCP and on UDP.

#include <string>

#include "raw_cells.hpp"
#include "zpat/core/error.hpp"

namespace zpat::detail {
namespace {

// A pipeline needs flow control (a pusher waits for a slow puller), which UDP does not have.
[[noreturn]] void refuse_udp_pipeline(const char* role) {
    throw unsupported_error(std::string("a ") + role +
                            " on raw+udp:// is not supported: a pipeline needs flow control, which "
                            "UDP does not have; use raw+tcp://");
}

std::unique_ptr<sender_impl> refuse_udp_pusher(const std::vector<endpoint>&, const options&) {
    refuse_udp_pipeline("pusher");
}

std::unique_ptr<receiver_impl> refuse_udp_puller(const std::vector<endpoint>&, const options&) {
    refuse_udp_pipeline("puller");
}

// Majordomo is a ZeroMQ protocol: its broker speaks it on ZeroMQ endpoints only.
[[noreturn]] void refuse_majordomo(const char* role) {
    throw unsupported_error(std::string("a service ") + role +
                            " (Majordomo) on the raw backend is not supported: Majordomo runs on "
                            "ZeroMQ endpoints (tcp://, ipc://, inproc://)");
}

std::unique_ptr<requester_impl> refuse_service_client(const std::vector<endpoint>&,
                                                      const options&) {
    refuse_majordomo("client");
}

std::unique_ptr<service_worker_impl> refuse_service_worker(const std::vector<endpoint>&,
                                                           std::string_view, const options&) {
    refuse_majordomo("worker");
}

// A stream is bytes on a connection; UDP has datagrams and no connections.
std::unique_ptr<stream_impl> refuse_udp_stream(const std::vector<endpoint>&, const options&) {
    throw unsupported_error(
        "a stream on raw+udp:// is not supported: a stream is bytes on a connection, and UDP "
        "has only datagrams; use raw+tcp://");
}

// The broker's roles that raw TCP lacks: the raw wire format has no peer identities to route
// by, and a raw subscriber's subscriptions are not messages of its own.
[[noreturn]] void refuse_zmq_only(const char* role, const char* why) {
    throw unsupported_error(std::string("a ") + role + " on the raw backend is not supported: " +
                            why + "; use ZeroMQ endpoints (tcp://, ipc://, inproc://)");
}

std::unique_ptr<router_impl> refuse_router(const std::vector<endpoint>&, const options&) {
    refuse_zmq_only("router", "the raw wire format names no peers to route by");
}

std::unique_ptr<xpublisher_impl> refuse_udp_xpublisher(const std::vector<endpoint>&,
                                                       const options&) {
    throw unsupported_error(
        "an xpublisher on raw+udp:// is not supported: a datagram subscriber repeats its "
        "prefixes and is forgotten after a silence, so its subscriptions have no clear start "
        "and end to hand over; use raw+tcp:// or ZeroMQ endpoints");
}

std::unique_ptr<xsubscriber_impl> refuse_xsubscriber(const std::vector<endpoint>&, const options&) {
    refuse_zmq_only("xsubscriber",
                    "a raw subscriber's subscriptions are kept by its publishers, not passed on "
                    "as messages");
}

}  // namespace

void check_raw_sendable(const message& msg, const options& opts) {
    check_sendable(msg, opts.max_message_size);
    if (msg.size() > wire::max_frames) {
        throw message_size_error("message of " + std::to_string(msg.size()) +
                                 " frames exceeds the raw wire format's limit of " +
                                 std::to_string(wire::max_frames));
    }
}

const backend& raw_tcp_backend() {
    static const backend table{"raw+tcp",
                               make_raw_requester,
                               make_raw_replier,
                               make_raw_pusher,
                               make_raw_puller,
                               make_raw_publisher,
                               make_raw_subscriber,
                               refuse_service_client,
                               refuse_service_worker,
                               make_raw_stream,
                               refuse_router,
                               make_raw_xpublisher,
                               refuse_xsubscriber,
                               nullptr};
    return table;
}

const backend& raw_udp_backend() {
    static const backend table{"raw+udp",
                               make_raw_udp_requester,
                               make_raw_udp_replier,
                               refuse_udp_pusher,
                               refuse_udp_puller,
                               make_raw_udp_publisher,
                               make_raw_udp_subscriber,
                               refuse_service_client,
                               refuse_service_worker,
                               refuse_udp_stream,
                               refuse_router,
                               refuse_udp_xpublisher,
                               refuse_xsubscriber,
                               nullptr};
    return table;
}

}  // namespace zpat::detail
