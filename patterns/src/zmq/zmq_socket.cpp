#include "zmq_socket.hpp"

#include <cerrno>
#include <string>

#include "zpat/core/error.hpp"

namespace zpat::detail {
namespace {

int to_int_ms(milliseconds timeout) {
    return timeout.count() < 0 ? -1 : static_cast<int>(timeout.count());
}

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

}  // namespace

zmq::context_t& zmq_context() {
    static zmq::context_t context;
    return context;
}

void check_zmq_address(const endpoint& ep) {
    if (ep.scheme != "tcp") {
        return;  // ipc paths and inproc names are free-form
    }
    const auto colon = ep.address.rfind(':');
    if (colon == std::string::npos || !is_port(std::string_view(ep.address).substr(colon + 1))) {
        throw endpoint_error("endpoint '" + ep.url() +
                             "' needs host:port, with a port from 1 to 65535 or * for any");
    }
    const std::string_view host = std::string_view(ep.address).substr(0, colon);
    if (host.empty() || (ep.side == link::connect && host == "*")) {
        throw endpoint_error("endpoint '" + ep.url() + "' cannot connect to host '" +
                             std::string(host) + "': name the host, e.g. tcp://127.0.0.1:5555");
    }
    if (ep.side == link::connect && std::string_view(ep.address).substr(colon + 1) == "*") {
        throw endpoint_error("endpoint '" + ep.url() + "' cannot connect to port *: name the port");
    }
}

void check_message_size(const message& msg, std::size_t limit) {
    const std::size_t size = msg.byte_size();
    if (size > limit) {
        throw message_size_error("message of " + std::to_string(size) +
                                 " bytes exceeds max_message_size of " + std::to_string(limit) +
                                 " bytes");
    }
}

zmq_socket::zmq_socket(zmq::socket_type type, std::vector<endpoint> endpoints, const options& opts,
                       zmq::context_t& context)
    : context_(&context), type_(type), endpoints_(std::move(endpoints)), options_(opts) {
    for (const endpoint& ep : endpoints_) {
        check_zmq_address(ep);
    }
    open();
}

void zmq_socket::open() {
    socket_ = zmq::socket_t(*context_, type_);
    socket_.set(zmq::sockopt::sndhwm, options_.send_high_water_mark);
    socket_.set(zmq::sockopt::rcvhwm, options_.receive_high_water_mark);
    socket_.set(zmq::sockopt::linger, to_int_ms(options_.linger));
    socket_.set(zmq::sockopt::sndtimeo, to_int_ms(options_.send_timeout));
    socket_.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(options_.max_message_size));
    receive_timeout_ms_ = -1;

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
                socket_.connect(url);
                resolved_.push_back(url);
            }
        } catch (const zmq::error_t& e) {
            socket_.set(zmq::sockopt::linger, 0);
            socket_.close();
            throw connection_error(std::string("cannot ") +
                                   (ep.side == link::bind ? "bind " : "connect to ") + "'" + url +
                                   "': " + e.what());
        }
    }
}

void zmq_socket::reopen() {
    socket_.set(zmq::sockopt::linger, 0);
    socket_.close();
    open();
}

void zmq_socket::set_receive_timeout(milliseconds timeout) {
    const int ms = to_int_ms(timeout);
    if (ms != receive_timeout_ms_) {
        socket_.set(zmq::sockopt::rcvtimeo, ms);
        receive_timeout_ms_ = ms;
    }
}

bool zmq_socket::send_frame(const std::string& frame, bool more, bool first) {
    try {
        // libzmq applies the high-water mark to the first frame only; once it is queued the
        // rest of the message always follows.
        return socket_
            .send(zmq::const_buffer(frame.data(), frame.size()),
                  more ? zmq::send_flags::sndmore : zmq::send_flags::none)
            .has_value();
    } catch (const zmq::error_t& e) {
        if (e.num() == EINTR && first) {
            return false;
        }
        throw;
    }
}

bool zmq_socket::send(const message& msg) {
    if (msg.empty()) {
        throw state_error("cannot send a message with no frames");
    }
    check_message_size(msg, options_.max_message_size);
    const std::size_t last = msg.size() - 1;
    for (std::size_t i = 0; i <= last; ++i) {
        if (!send_frame(msg[i], i < last, i == 0)) {
            return false;
        }
    }
    return true;
}

bool zmq_socket::send(const message& head, const message& body) {
    if (body.empty()) {
        throw state_error("cannot send a message with no frames");
    }
    check_message_size(body, options_.max_message_size);
    for (std::size_t i = 0; i < head.size(); ++i) {
        if (!send_frame(head[i], true, i == 0)) {
            return false;
        }
    }
    const std::size_t last = body.size() - 1;
    for (std::size_t i = 0; i <= last; ++i) {
        if (!send_frame(body[i], i < last, head.empty() && i == 0)) {
            return false;
        }
    }
    return true;
}

bool zmq_socket::receive_frame() {
    try {
        return socket_.recv(frame_).has_value();
    } catch (const zmq::error_t& e) {
        if (e.num() == EINTR) {
            return false;
        }
        throw;
    }
}

bool zmq_socket::receive(message& into, milliseconds timeout) {
    set_receive_timeout(timeout);
    for (;;) {
        if (!receive_frame()) {
            return false;
        }
        std::size_t count = 0;
        std::size_t total = 0;
        bool oversized = false;
        for (;;) {
            const std::string_view bytes(static_cast<const char*>(frame_.data()), frame_.size());
            total += bytes.size();
            oversized = oversized || total > options_.max_message_size;
            if (!oversized) {
                into.assign_frame(count++, bytes);
            }
            // The remaining frames of a message are already here: this never waits.
            if (!frame_.more()) {
                break;
            }
            if (!receive_frame()) {
                return false;
            }
        }
        if (!oversized) {
            into.truncate(count);
            return true;
        }
        ++oversized_dropped_;
    }
}

}  // namespace zpat::detail
