#pragma once
// The makers of the raw backend's cells, one per file (raw_<role>.cpp).

#include <memory>
#include <vector>

#include "backend.hpp"
#include "raw_socket.hpp"

namespace zpat::detail {

std::unique_ptr<requester_impl> make_raw_requester(const std::vector<endpoint>&, const options&);
std::unique_ptr<replier_impl> make_raw_replier(const std::vector<endpoint>&, const options&);
std::unique_ptr<sender_impl> make_raw_pusher(const std::vector<endpoint>&, const options&);
std::unique_ptr<receiver_impl> make_raw_puller(const std::vector<endpoint>&, const options&);
std::unique_ptr<publisher_impl> make_raw_publisher(const std::vector<endpoint>&, const options&);
std::unique_ptr<subscriber_impl> make_raw_subscriber(const std::vector<endpoint>&, const options&);

std::unique_ptr<requester_impl> make_raw_udp_requester(const std::vector<endpoint>&,
                                                       const options&);
std::unique_ptr<replier_impl> make_raw_udp_replier(const std::vector<endpoint>&, const options&);
std::unique_ptr<publisher_impl> make_raw_udp_publisher(const std::vector<endpoint>&,
                                                       const options&);
std::unique_ptr<subscriber_impl> make_raw_udp_subscriber(const std::vector<endpoint>&,
                                                         const options&);

// check_sendable, plus the wire format's frame-count limit.
void check_raw_sendable(const message& msg, const options& opts);

}  // namespace zpat::detail
