#pragma once
// The makers of the ZeroMQ backend's cells, one per file (zmq_<role>.cpp).

#include <memory>
#include <vector>

#include "seam/registry.hpp"
#include "zmq_socket.hpp"

namespace zpat::detail {

// What every receiving cell on ZeroMQ does, over the socket of its type; Interface is
// receiver_impl or one of its extensions.
template <class Interface>
class zmq_receiving_cell : public Interface {
  public:
    zmq_receiving_cell(zmq::socket_type type, const std::vector<endpoint>& endpoints,
                       const options& opts)
        : socket_(type, endpoints, opts) {}

    bool receive(message& into, milliseconds timeout) override {
        return socket_.receive(into, timeout);
    }
    std::uint64_t oversized_dropped() const noexcept override {
        return socket_.oversized_dropped();
    }
    poll_handle handle() const override { return socket_.handle(); }
    const std::vector<std::string>& endpoints() const override { return socket_.endpoints(); }

  protected:
    zmq_socket socket_;
};

std::unique_ptr<requester_impl> make_zmq_requester(const std::vector<endpoint>&, const options&);
std::unique_ptr<replier_impl> make_zmq_replier(const std::vector<endpoint>&, const options&);
std::unique_ptr<sender_impl> make_zmq_pusher(const std::vector<endpoint>&, const options&);
std::unique_ptr<receiver_impl> make_zmq_puller(const std::vector<endpoint>&, const options&);
std::unique_ptr<publisher_impl> make_zmq_publisher(const std::vector<endpoint>&, const options&);
std::unique_ptr<subscriber_impl> make_zmq_subscriber(const std::vector<endpoint>&, const options&);
std::unique_ptr<stream_impl> make_zmq_stream(const std::vector<endpoint>&, const options&);
std::unique_ptr<service_worker_impl> make_zmq_service_worker(const std::vector<endpoint>&,
                                                             std::string_view service,
                                                             const options&);

}  // namespace zpat::detail
