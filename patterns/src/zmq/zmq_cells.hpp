#pragma once
// The makers of the ZeroMQ backend's cells, one per file (zmq_<role>.cpp).

#include <memory>
#include <vector>

#include "backend.hpp"
#include "zmq_socket.hpp"

namespace zpat::detail {

std::unique_ptr<requester_impl> make_zmq_requester(const std::vector<endpoint>&, const options&);
std::unique_ptr<replier_impl> make_zmq_replier(const std::vector<endpoint>&, const options&);
std::unique_ptr<sender_impl> make_zmq_pusher(const std::vector<endpoint>&, const options&);
std::unique_ptr<receiver_impl> make_zmq_puller(const std::vector<endpoint>&, const options&);
std::unique_ptr<publisher_impl> make_zmq_publisher(const std::vector<endpoint>&, const options&);
std::unique_ptr<subscriber_impl> make_zmq_subscriber(const std::vector<endpoint>&, const options&);

}  // namespace zpat::detail
