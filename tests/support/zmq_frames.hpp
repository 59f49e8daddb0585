#pragma once
// The frames of the next message a libzmq socket receives, for tests with libzmq peers.

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>
#include <zmq.hpp>

namespace zpat::testing {

// Empty when nothing came within the socket's receive timeout. Each frame is copied out by
// zmq_recv, inside libzmq: libzmq is not built with ThreadSanitizer, and a frame's bytes read
// here, written by its I/O thread, would be reported when TSan cannot recall that thread's
// stack to see the write was libzmq's. Frames up to 1 MiB.
inline std::vector<std::string> frames_of(zmq::socket_t& s) {
    thread_local std::string buffer(std::size_t{1} << 20, '\0');
    std::vector<std::string> got;
    for (bool more = true; more;) {
        const auto received = s.recv(zmq::buffer(buffer));
        if (!received) {
            return got;
        }
        if (received->truncated()) {
            throw std::length_error("a frame over frames_of's 1 MiB");
        }
        got.emplace_back(buffer.data(), received->size);
        more = s.get(zmq::sockopt::rcvmore);
    }
    return got;
}

}  // namespace zpat::testing
