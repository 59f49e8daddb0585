#include "zmq_socket.hpp"

#include <algorithm>
#include <cerrno>
#include <string>
#include <utility>

#include "core/log_line.hpp"
#include "seam/registry.hpp"
#include "zpat/core/error.hpp"

namespace zpat::detail {
namespace {

// Only connections over a network or ipc have handshakes and events to watch.
bool watchable(const std::vector<endpoint>& endpoints) {
    return std::ranges::any_of(
        endpoints, [](const endpoint& ep) { return ep.scheme == "tcp" || ep.scheme == "ipc"; });
}

std::string log_name(zmq::socket_type type) {
    switch (type) {
        case zmq::socket_type::req:
            return "zeromq REQ";
        case zmq::socket_type::rep:
            return "zeromq REP";
        case zmq::socket_type::dealer:
            return "zeromq DEALER";
        case zmq::socket_type::router:
            return "zeromq ROUTER";
        case zmq::socket_type::push:
            return "zeromq PUSH";
        case zmq::socket_type::pull:
            return "zeromq PULL";
        case zmq::socket_type::pub:
            return "zeromq PUB";
        case zmq::socket_type::sub:
            return "zeromq SUB";
        case zmq::socket_type::xpub:
            return "zeromq XPUB";
        case zmq::socket_type::xsub:
            return "zeromq XSUB";
        case zmq::socket_type::stream:
            return "zeromq STREAM";
        default:
            return "zeromq socket";
    }
}

}  // namespace

zmq::context_t& zmq_context() {
    static zmq::context_t context = [] {
        zmq::context_t made;
        // Each watched role takes three sockets (its own and a monitor pair, zmq_watch.hpp):
        // let the descriptor limit, not libzmq's default of 1023 sockets, be what runs out.
        made.set(zmq::ctxopt::max_sockets, 8192);
        return made;
    }();
    return context;
}

zmq_socket::zmq_socket(zmq::socket_type type, std::vector<endpoint> endpoints, const options& opts,
                       zmq::context_t& context)
    : context_(&context), type_(type), endpoints_(std::move(endpoints)), options_(opts) {
    if (options_.curve && !check_curve(*options_.curve)) {
        counts_->refusal = std::make_unique<wake_signal>();  // a client, told when refused
        if (std::ranges::any_of(endpoints_,
                                [](const endpoint& ep) { return ep.side == link::connect; })) {
            backoff_ = std::make_unique<reconnect_backoff>(counts_);
        }
    } else if (options_.curve) {
        zap_ = std::make_unique<zap_registration>(*options_.curve, log_name(type_));
        if (options_.curve->allow_any_client) {
            log_line(log_name(type_),
                     "CURVE server accepts any client key (allow_any_client): traffic is "
                     "encrypted, but clients are not authenticated");
        }
    }
    open();
}

void zmq_socket::open(bool wait_out_backoff) {
    try {
        socket_ = zmq::socket_t(*context_, type_);  // EMFILE past ZMQ_MAX_SOCKETS
    } catch (const zmq::error_t& e) {
        throw_zmq_failure("opening a socket", e.num());
    }
    set(zmq::sockopt::sndhwm, options_.send_high_water_mark);
    set(zmq::sockopt::rcvhwm, options_.receive_high_water_mark);
    set(zmq::sockopt::linger, to_int_ms(options_.linger));
    if (options_.immediate) {
        set(zmq::sockopt::immediate, 1);
    }
    set(zmq::sockopt::sndtimeo, to_int_ms(options_.send_timeout));
    set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(options_.max_message_size));
    set(zmq::sockopt::handshake_ivl, std::max(0, to_int_ms(options_.handshake_timeout)));
    if (options_.failover) {
        // ZMTP heartbeats, so that a connection to a peer gone silent (a partition, a host
        // down) is lost within failover_timeout, as one to a peer that closed it is at once.
        const int timeout = to_int_ms(options_.failover_timeout);
        set(zmq::sockopt::heartbeat_ivl, std::max(1, timeout / 3));
        set(zmq::sockopt::heartbeat_timeout, timeout);
    }
    if (options_.curve) {
        try {
            apply_curve(socket_, *options_.curve, zap_.get());
        } catch (const zmq::error_t& e) {
            throw_zmq_failure("setting the CURVE options", e.num());
        }
    }
    receive_timeout_ms_ = -1;
    if (watchable(endpoints_)) {
        watch_ =
            std::make_unique<connection_watch>(socket_, counts_, log_name(type_), security_kind());
    }

    bind_and_connect(begin_backoff(wait_out_backoff));
}

void zmq_socket::bind_and_connect(bool defer_connects) {
    resolved_.clear();
    for (endpoint& ep : endpoints_) {
        const std::string url = ep.url();
        try {
            if (ep.side == link::bind) {
                socket_.bind(url);
                // Keep the real address, so that a reopen binds the same port and users can
                // read the port the system picked for ":*".
                std::string real = socket_.get(zmq::sockopt::last_endpoint);
                ep.address = real.substr(real.find("://") + 3);
                resolved_.push_back(std::move(real));
            } else {
                if (!defer_connects) {
                    socket_.connect(url);
                }
                resolved_.push_back(url);
            }
        } catch (const zmq::error_t& e) {
            watch_.reset();
            socket_.set(zmq::sockopt::linger, 0);
            socket_.close();
            if (ep.side == link::bind) {
                throw connection_error(bind_failure(ep, e.num(), e.what()));
            }
            throw connection_error("cannot connect to '" + url + "': " + e.what());
        }
    }
}

bool zmq_socket::begin_backoff(bool wait_out_backoff) {
    if (!backoff_) {
        return false;
    }
    std::vector<std::string> connects;
    for (const endpoint& ep : endpoints_) {
        if (ep.side == link::connect) {
            connects.push_back(ep.url());
        }
    }
    if (!backoff_->attach(socket_.handle(), std::move(connects))) {
        backoff_.reset();  // a libzmq without ZMQ_RECONNECT_STOP: its own reconnection stays
        return false;
    }
    return backoff_->defer_connects(wait_out_backoff);
}

void zmq_socket::reopen(bool wait_out_backoff) {
    if (backoff_) {
        backoff_->detach();
    }
    watch_.reset();
    set(zmq::sockopt::linger, 0);
    socket_.close();
    open(wait_out_backoff);
}

void zmq_socket::connect_instead(const endpoint& to) {
    for (const endpoint& ep : endpoints_) {
        try {
            socket_.disconnect(ep.url());
        } catch (const zmq::error_t& e) {
            if (e.num() != ENOENT) {  // not connected now: nothing to undo
                throw_zmq_failure("disconnecting from " + ep.url(), e.num());
            }
        }
    }
    const std::string url = to.url();
    try {
        socket_.connect(url);
    } catch (const zmq::error_t& e) {
        throw connection_error("cannot connect to '" + url + "': " + e.what());
    }
    endpoints_.assign(1, to);
    resolved_.assign(1, url);
    if (backoff_) {
        (void)backoff_->attach(socket_.handle(), {url});
    }
}

std::string unique_inproc_name(std::string_view what) {
    static std::atomic<unsigned> counter{0};
    return "zpat-" + std::string(what) + "-" + std::to_string(counter.fetch_add(1));
}

void throw_zmq_failure(std::string_view what, int errno_value) {
    std::string text = "ZeroMQ " + std::string(what) + " failed: " + zmq_strerror(errno_value);
    switch (errno_value) {
        case EFSM:
            throw state_error(text);
        case EHOSTUNREACH:
            throw connection_error(text);
        case ETERM:
            throw context_terminated(text);
        default:
            throw error(text);
    }
}

bool poll_interrupted(std::span<zmq::pollitem_t> items, milliseconds timeout) {
    try {
        zmq::poll(items.data(), items.size(), timeout);
        return false;
    } catch (const zmq::error_t& e) {
        if (e.num() == EINTR) {
            return true;
        }
        throw_zmq_failure("poll", e.num());
    }
}

}  // namespace zpat::detail
