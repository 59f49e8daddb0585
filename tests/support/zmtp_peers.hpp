#pragma once
// For tests of zpat's own ZeroMQ sockets (io_model::caller) with libzmq peers and peers written
// by hand.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <zmq.hpp>

#include "zpat/core/options.hpp"

namespace zpat::testing {

inline zpat::options caller(zpat::options opts = {}) {
    opts.io = zpat::io_model::caller;
    return opts;
}

// A plain TCP connection to `endpoint` ("tcp://127.0.0.1:port"), for a peer written by hand.
inline int loopback_connect(const std::string& endpoint) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port =
        htons(static_cast<std::uint16_t>(std::stoi(endpoint.substr(endpoint.rfind(':') + 1))));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        throw std::runtime_error("cannot connect to " + endpoint);
    }
    return fd;
}

// A libzmq socket of `type` connected to `endpoint`: no linger, receiving within 5 s.
inline zmq::socket_t connected_socket(zmq::context_t& context, zmq::socket_type type,
                                      const std::string& endpoint) {
    zmq::socket_t s(context, type);
    s.set(zmq::sockopt::linger, 0);
    s.set(zmq::sockopt::rcvtimeo, 5000);
    s.connect(endpoint);
    return s;
}

}  // namespace zpat::testing
