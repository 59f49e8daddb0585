#pragma once
// The frames of the next message a libzmq socket receives, for tests with libzmq peers.

#include <string>
#include <vector>
#include <zmq.hpp>

namespace zpat::testing {

// Empty when nothing came within the socket's receive timeout.
inline std::vector<std::string> frames_of(zmq::socket_t& s) {
    std::vector<std::string> got;
    for (bool more = true; more;) {
        zmq::message_t frame;
        if (!s.recv(frame)) {
            return got;
        }
        got.push_back(frame.to_string());
        more = frame.more();
    }
    return got;
}

}  // namespace zpat::testing
