// The raw backend: zpat's own wire format (docs/wire-format.md) on plain TCP, on TCP inside TLS,
// and on UDP.

#include <string>

#include "raw_cells.hpp"
#include "raw_relay.hpp"
#include "zpat/core/error.hpp"

namespace zpat::detail {
namespace {

std::string zmq_only(std::string_view role, std::string_view why) {
    return "a " + std::string(role) + " on the raw backend is not supported: " + std::string(why) +
           "; use ZeroMQ endpoints (tcp://, ipc://, inproc://)";
}

// Majordomo is a ZeroMQ protocol: its broker speaks it on ZeroMQ endpoints only.
std::string majordomo(std::string_view role) {
    return "a service " + std::string(role) +
           " (Majordomo) on the raw backend is not supported: Majordomo runs on ZeroMQ endpoints "
           "(tcp://, ipc://, inproc://)";
}

std::string tcp_refusal(role_kind role) {
    switch (role) {
        case role_kind::service_client:
            return majordomo("client");
        case role_kind::service_worker:
            return majordomo("worker");
        case role_kind::router:
            return zmq_only("router", "the raw wire format names no peers to route by");
        case role_kind::dealer:
            return zmq_only("dealer",
                            "its peers are ZeroMQ's ROUTER, REP and DEALER sockets, which the raw "
                            "wire format does not have");
        case role_kind::datagram:
            return "a datagram on raw+tcp:// is not supported: TCP is a byte stream with no "
                   "datagrams; use a stream, or raw+udp://";
        default:
            return {};
    }
}

// raw+tls:// builds what raw+tcp:// does: the same roles, over TLS.
std::string tls_refusal(role_kind role) {
    if (role == role_kind::datagram) {
        return "a datagram on raw+tls:// is not supported: TLS runs on TCP, a byte stream with no "
               "datagrams; use a stream";
    }
    return tcp_refusal(role);
}

std::string udp_refusal(role_kind role) {
    switch (role) {
        case role_kind::pusher:
        case role_kind::puller:
            // A pipeline needs flow control (a pusher waits for a slow puller).
            return std::string("a ") + (role == role_kind::pusher ? "pusher" : "puller") +
                   " on raw+udp:// is not supported: a pipeline needs flow control, which UDP "
                   "does not have; use raw+tcp://";
        case role_kind::stream:
            return "a stream on raw+udp:// is not supported: a stream is bytes on a connection, "
                   "and UDP has only datagrams; use raw+tcp://";
        case role_kind::xpublisher:
            return "an xpublisher on raw+udp:// is not supported: a datagram subscriber repeats "
                   "its prefixes and is forgotten after a silence, so its subscriptions have no "
                   "clear start and end to hand over; use raw+tcp:// or ZeroMQ endpoints";
        case role_kind::xsubscriber:
            return "an xsubscriber on raw+udp:// is not supported: it is the upstream side of a "
                   "forwarder, whose subscriptions have no xpublisher on raw+udp:// to come "
                   "from; use a subscriber, raw+tcp:// or ZeroMQ endpoints";
        case role_kind::datagram:
            return {};
        default:
            return tcp_refusal(role);
    }
}

// The maker of a cell a backend does not build: it throws the backend's refusal.
template <std::string (*Refusal)(role_kind), role_kind Role, class Impl>
std::unique_ptr<Impl> refuse(const std::vector<endpoint>&, const options&) {
    throw unsupported_error(Refusal(Role));
}

template <std::string (*Refusal)(role_kind)>
std::unique_ptr<service_worker_impl> refuse_worker(const std::vector<endpoint>&, std::string_view,
                                                   const options&) {
    throw unsupported_error(Refusal(role_kind::service_worker));
}

// raw+tcp:// and raw+tls:// build the same roles over a byte stream; they differ in name, in the
// words of their refusals and in their security.
template <std::string (*Refusal)(role_kind)>
backend stream_backend(std::string_view name, bool tls) {
    return {name,
            wire::max_frames,
            true,
            false,
            tls,
            !tls,
            Refusal,
            make_raw_requester,
            make_raw_replier,
            make_raw_pusher,
            make_raw_puller,
            make_raw_publisher,
            make_raw_subscriber,
            refuse<Refusal, role_kind::service_client, requester_impl>,
            refuse_worker<Refusal>,
            make_raw_stream,
            refuse<Refusal, role_kind::datagram, datagram_impl>,
            refuse<Refusal, role_kind::router, router_impl>,
            refuse<Refusal, role_kind::dealer, dealer_impl>,
            make_raw_xpublisher,
            make_raw_xsubscriber,
            make_raw_relay};
}

}  // namespace

const backend& raw_tcp_backend() {
    static const backend table = stream_backend<tcp_refusal>("raw+tcp", false);
    return table;
}

const backend& raw_tls_backend() {
    static const backend table = stream_backend<tls_refusal>("raw+tls", true);
    return table;
}

const backend& raw_udp_backend() {
    static const backend table{"raw+udp",
                               wire::max_frames,
                               false,
                               false,
                               false,
                               true,
                               udp_refusal,
                               make_raw_udp_requester,
                               make_raw_udp_replier,
                               refuse<udp_refusal, role_kind::pusher, sender_impl>,
                               refuse<udp_refusal, role_kind::puller, receiver_impl>,
                               make_raw_udp_publisher,
                               make_raw_udp_subscriber,
                               refuse<udp_refusal, role_kind::service_client, requester_impl>,
                               refuse_worker<udp_refusal>,
                               refuse<udp_refusal, role_kind::stream, stream_impl>,
                               make_raw_datagram,
                               refuse<udp_refusal, role_kind::router, router_impl>,
                               refuse<udp_refusal, role_kind::dealer, dealer_impl>,
                               refuse<udp_refusal, role_kind::xpublisher, xpublisher_impl>,
                               refuse<udp_refusal, role_kind::xsubscriber, xsubscriber_impl>,
                               nullptr};
    return table;
}

}  // namespace zpat::detail
