#pragma once
// Endpoints as strings: "scheme://address", with an optional '@' (bind) or '>' (connect) prefix.
// Several endpoints may be joined with commas: "@tcp://127.0.0.1:5557,>ipc:///tmp/feed".
// Without a prefix each role uses its natural side (publisher, replier and puller bind;
// subscriber, requester and pusher connect). The scheme selects the backend; only the backend
// registry interprets it.

#include <string>
#include <string_view>
#include <vector>

#include "zpat/core/options.hpp"

namespace zpat {

enum class link { bind, connect };

struct endpoint {
    link side = link::connect;
    std::string scheme;   // "tcp", "ipc", "inproc"
    std::string address;  // what follows "://"

    // "scheme://address", without the side prefix.
    std::string url() const { return scheme + "://" + address; }
    friend bool operator==(const endpoint&, const endpoint&) = default;
};

// Parses one endpoint or a comma-separated list; `default_side` applies where no prefix is given.
// This checks the generic syntax only; the backend chosen by the scheme checks the address when
// a role is made. Throws: endpoint_error naming the offending text (empty, no "://", a malformed
// scheme, an empty address).
std::vector<endpoint> parse_endpoints(std::string_view text, link default_side);

// The backend that serves `endpoints`: "zeromq", "raw+tcp" or "raw+udp". For code that forwards
// between roles (the broker) and picks a faster path when both sides are ZeroMQ. Throws:
// endpoint_error, as parse_endpoints does, or for an unknown scheme or a mix of backends.
std::string_view backend_name(std::string_view endpoints);

// The roles, as cells of the patterns x backends matrix.
enum class role_kind {
    requester,
    replier,
    pusher,
    puller,
    publisher,
    subscriber,
    service_client,
    service_worker,
    stream,
    router,
    xpublisher,
    xsubscriber,
    datagram,
    dealer,
};

// Checks, binding and connecting nothing, that the backend serving `endpoints` builds `role`
// with `opts`: what a configuration checker tells before anything starts. Throws:
// endpoint_error, as backend_name does; unsupported_error naming the cell, in the words making
// the role would use; option_error for options the role would refuse (a raw bind beyond
// loopback without options::allow_insecure, CURVE where there is none).
void check_offered(role_kind role, std::string_view endpoints, const options& opts = {});

}  // namespace zpat
