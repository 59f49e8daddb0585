// The scheme-to-backend registry: the one place that interprets a scheme string.

#include <array>
#include <cerrno>
#include <string>

#include "seam/registry.hpp"
#include "zpat/core/error.hpp"

namespace zpat::detail {
namespace {

bool is_port(std::string_view text) {
    if (text == "*" || text == "0") {
        return true;
    }
    if (text.empty() || text.size() > 5) {
        return false;
    }
    int port = 0;
    for (char c : text) {
        if (c < '0' || c > '9') {
            return false;
        }
        port = port * 10 + (c - '0');
    }
    return port >= 1 && port <= 65535;
}

struct scheme_entry {
    std::string_view scheme;
    const backend& (*owner)();
    // Checks the address part, or nullptr where any non-empty address will do.
    void (*check_address)(const endpoint&);
};

// ZeroMQ's own transports, then zpat's raw ones. A scheme not listed here is refused by name.
constexpr std::array<scheme_entry, 6> schemes{{
    {"tcp", zmq_backend, check_host_port},
    {"ipc", zmq_backend, nullptr},
    {"inproc", zmq_backend, nullptr},
    {"raw+tcp", raw_tcp_backend, check_host_port},
    {"raw+tls", raw_tls_backend, check_host_port},
    {"raw+udp", raw_udp_backend, check_host_port},
}};

std::string known_schemes() {
    std::string list;
    for (const auto& entry : schemes) {
        list += (list.empty() ? "" : ", ") + std::string(entry.scheme) + "://";
    }
    return list;
}

const backend& owner_of(const endpoint& ep) {
    for (const auto& entry : schemes) {
        if (entry.scheme == ep.scheme) {
            if (entry.check_address != nullptr) {
                entry.check_address(ep);
            }
            return entry.owner();
        }
    }
    throw endpoint_error("endpoint '" + ep.url() + "' has unknown scheme '" + ep.scheme +
                         "' (known: " + known_schemes() + ")");
}

}  // namespace

void check_host_port(const endpoint& ep) {
    const auto colon = ep.address.rfind(':');
    const std::string_view port = colon == std::string::npos
                                      ? std::string_view{}
                                      : std::string_view(ep.address).substr(colon + 1);
    if (!is_port(port)) {
        throw endpoint_error("endpoint '" + ep.url() +
                             "' needs host:port, with a port from 1 to 65535 or * for any");
    }
    const std::string_view host = std::string_view(ep.address).substr(0, colon);
    if (host.empty() || (ep.side == link::connect && host == "*")) {
        throw endpoint_error("endpoint '" + ep.url() + "' cannot connect to host '" +
                             std::string(host) + "': name the host, e.g. tcp://127.0.0.1:5555");
    }
    if (ep.side == link::connect && (port == "*" || port == "0")) {
        throw endpoint_error("endpoint '" + ep.url() + "' cannot connect to port " +
                             std::string(port) + ": name the port");
    }
}

std::string bind_failure(const endpoint& ep, int error, std::string_view reason) {
    std::string text = "cannot bind '" + ep.url() + "': " + std::string(reason);
    if (error == EADDRINUSE) {
        text += " (another program is bound there, a broker perhaps; to connect to it, write '>" +
                ep.url() + "')";
    } else if (error == ENODEV && ep.scheme == "tcp") {
        text +=
            " (libzmq binds an IP address or an interface name, not a host name: write "
            "127.0.0.1 for this machine only, or * for every interface)";
    }
    return text;
}

void refuse_unsendable(const message& msg, const options& opts) {
    if (msg.empty()) {
        throw state_error("cannot send a message with no frames");
    }
    const std::size_t size = msg.byte_size();
    if (size > opts.max_message_size) {
        throw message_size_error("message of " + std::to_string(size) +
                                 " bytes exceeds max_message_size of " +
                                 std::to_string(opts.max_message_size) + " bytes");
    }
    // Called only for a message check_sendable refused: the one reason left.
    throw message_size_error("message of " + std::to_string(msg.size()) +
                             " frames exceeds max_message_frames of " +
                             std::to_string(opts.max_message_frames));
}

}  // namespace zpat::detail

namespace zpat {

std::string_view backend_name(std::string_view endpoints) {
    return detail::resolve(endpoints, link::bind).owner->name;
}

void check_offered(role_kind role, std::string_view endpoints, const options& opts) {
    const std::string refusal =
        detail::resolve(endpoints, link::bind, opts, role).owner->refusal(role);
    if (!refusal.empty()) {
        throw unsupported_error(refusal);
    }
}

}  // namespace zpat

namespace zpat::detail {

resolved_endpoints resolve(std::string_view text, link default_side) {
    resolved_endpoints result{nullptr, parse_endpoints(text, default_side)};
    for (const endpoint& ep : result.endpoints) {
        const backend& owner = owner_of(ep);
        if (result.owner != nullptr && result.owner != &owner) {
            throw endpoint_error("endpoints '" + std::string(text) +
                                 "' mix backends; one role speaks one backend");
        }
        result.owner = &owner;
    }
    return result;
}

namespace {

void check_at_least(std::string_view field, long long value, long long least) {
    if (value < least) {
        throw option_error("options::" + std::string(field) + " is " + std::to_string(value) +
                           "; it must be at least " + std::to_string(least));
    }
}

// A duration is forever (-1) or not negative.
void check_duration(std::string_view field, milliseconds value) {
    if (value != forever && value.count() < 0) {
        throw option_error("options::" + std::string(field) + " is " +
                           std::to_string(value.count()) +
                           " ms; it must be 0 or more, or zpat::forever");
    }
}

// Whether a bind to `host` takes connections from this machine alone.
bool loopback(std::string_view host) {
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    return host == "localhost" || host == "::1" || host.starts_with("127.");
}

std::string_view tls_refusal(std::string_view backend) {
    if (backend == "raw+udp") {
        return "raw+udp takes no TLS: its datagrams go as they are (docs/security.md); use "
               "raw+tls://, or CURVE on ZeroMQ";
    }
    if (backend == "raw+tcp") {
        return "raw+tcp:// is plain TCP; write raw+tls:// for the same wire format inside TLS";
    }
    return "ZeroMQ endpoints take no TLS; they are secured with CURVE (options::curve)";
}

// TLS options go with raw+tls:// endpoints and no others; a server needs its certificate.
void check_tls(const resolved_endpoints& result, const options& opts) {
    const backend& owner = *result.owner;
    if (opts.tls && !owner.tls) {
        throw unsupported_error("options::tls: " + std::string(tls_refusal(owner.name)));
    }
    if (!owner.tls) {
        return;
    }
    for (const endpoint& e : result.endpoints) {
        if (e.side == link::bind &&
            (!opts.tls || opts.tls->certificate.empty() || opts.tls->private_key.empty())) {
            throw option_error("binding " + e.url() +
                               " needs a certificate and its private key: options::tls "
                               "certificate and private_key (zpat and zpat-broker: --tls-cert "
                               "and --tls-key)");
        }
    }
    if (opts.tls && opts.tls->require_client_certificate && opts.tls->trusted_ca.empty()) {
        throw option_error(
            "options::tls: require_client_certificate needs trusted_ca, the authorities client "
            "certificates are verified against (--tls-ca)");
    }
    if (opts.tls && opts.tls->certificate.empty() != opts.tls->private_key.empty()) {
        throw option_error(
            "options::tls: a certificate needs its private key, and a key its "
            "certificate; one of the two is missing");
    }
}

// io_model::caller is built for a router (sending without waiting), an xpublisher and an
// xsubscriber binding tcp://, and a requester and a Majordomo client and worker connecting to
// tcp://, all without CURVE.
void check_io(const resolved_endpoints& result, const options& opts, role_kind role) {
    if (opts.io != io_model::caller) {
        return;
    }
    const std::string what = "options::io = io_model::caller: ";
    const char* name = nullptr;
    link side = link::bind;
    switch (role) {
        case role_kind::router:
            name = "a router";
            break;
        case role_kind::xpublisher:
            name = "an xpublisher";
            break;
        case role_kind::xsubscriber:
            name = "an xsubscriber";
            break;
        case role_kind::requester:
            name = "a requester";
            side = link::connect;
            break;
        case role_kind::service_client:
            name = "a service client";
            side = link::connect;
            break;
        case role_kind::service_worker:
            name = "a service worker";
            side = link::connect;
            break;
        default:
            throw unsupported_error(what +
                                    "built for the router, the xpublisher, the xsubscriber, the "
                                    "requester and the service client and worker only");
    }
    for (const endpoint& e : result.endpoints) {
        if (e.scheme != "tcp" || e.side != side) {
            throw unsupported_error(what + name +
                                    (side == link::bind ? " binding" : " connecting to") +
                                    " tcp:// endpoints only, not '" +
                                    std::string(e.side == link::bind ? "@" : ">") + e.url() + "'");
        }
    }
    if (opts.curve) {
        throw unsupported_error(what + "no CURVE yet; " + name +
                                " with CURVE does its I/O on libzmq's thread "
                                "(io_model::io_thread)");
    }
    if (role == role_kind::router && opts.send_timeout.count() != 0) {
        throw unsupported_error(what + "it does not wait to send; set options::send_timeout to 0");
    }
}

void check_options(const options& opts) {
    check_at_least("send_high_water_mark", opts.send_high_water_mark, 0);
    check_at_least("receive_high_water_mark", opts.receive_high_water_mark, 0);
    if (opts.max_message_size == 0) {
        throw option_error("options::max_message_size is 0; it must be at least 1 byte");
    }
    if (opts.max_message_frames == 0) {
        throw option_error("options::max_message_frames is 0; it must be at least 1 frame");
    }
    check_duration("linger", opts.linger);
    check_duration("send_timeout", opts.send_timeout);
    check_duration("handshake_timeout", opts.handshake_timeout);
    check_duration("partial_message_timeout", opts.partial_message_timeout);
    check_duration("idle_timeout", opts.idle_timeout);
    check_duration("request_timeout", opts.request_timeout);
    check_at_least("retries", opts.retries, 0);
    check_duration("heartbeat_interval", opts.heartbeat_interval);
    check_at_least("heartbeat_liveness", opts.heartbeat_liveness, 1);
    check_duration("reconnect_interval", opts.reconnect_interval);
    if (opts.failover && (opts.failover_timeout <= milliseconds{0})) {
        throw option_error("options::failover_timeout is " +
                           std::to_string(opts.failover_timeout.count()) +
                           " ms; a subscriber that fails over needs at least 1 ms");
    }
}

}  // namespace

resolved_endpoints resolve(std::string_view text, link default_side, const options& opts,
                           role_kind role) {
    check_options(opts);
    resolved_endpoints result = resolve(text, default_side);
    check_io(result, opts, role);
    const std::size_t most = result.owner->max_frames;
    if (most != 0 && opts.max_message_frames > most) {
        throw option_error("options::max_message_frames is " +
                           std::to_string(opts.max_message_frames) + "; " +
                           std::string(result.owner->name) + " carries at most " +
                           std::to_string(most) + " frames in a message");
    }
    if (opts.immediate && !result.owner->connections) {
        throw option_error("options::immediate: " + std::string(result.owner->name) +
                           " has no connections to wait for");
    }
    if (opts.curve && !result.owner->curve) {
        throw unsupported_error("options::curve: " + std::string(result.owner->name) +
                                " takes no CURVE; CURVE secures ZeroMQ's tcp:// and ipc://");
    }
    check_tls(result, opts);
    for (const endpoint& e : result.endpoints) {
        const std::string_view host = std::string_view(e.address).substr(0, e.address.rfind(':'));
        if (result.owner->plain_text && e.side == link::bind && !loopback(host) &&
            !opts.allow_insecure) {
            throw option_error("binding " + e.url() + " would take plain, unauthenticated " +
                               e.scheme +
                               " traffic from beyond this machine; bind 127.0.0.1 (or ::1), or "
                               "set options::allow_insecure to do so knowingly "
                               "(zpat and zpat-broker: --allow-insecure)");
        }
        if (opts.curve && e.scheme == "inproc") {
            throw option_error("options::curve: " + e.url() +
                               " is inside the process, with no handshake to secure");
        }
        // libzmq attaches an inproc connection at once, bound or not, whatever ZMQ_IMMEDIATE.
        if (opts.immediate && e.scheme == "inproc" && e.side == link::connect) {
            throw option_error("options::immediate: connecting to " + e.url() +
                               " is complete at once, even before anything binds it");
        }
    }
    return result;
}

}  // namespace zpat::detail
