#pragma once
// The makers of the ZeroMQ backend's cells, one per file (zmq_<role>.cpp).

#include <cstdint>
#include <memory>
#include <vector>

#include "seam/registry.hpp"
#include "zmq_socket.hpp"

namespace zpat::detail {

// A cell whose socket zmq_relay may move frames through directly. after_relayed(n) runs after
// each step that sent n messages that way, for a cell with housekeeping on its send path.
class zmq_socket_owner {
  public:
    virtual zmq_socket& owned_socket() noexcept = 0;
    virtual void after_relayed(std::uint64_t /*messages*/) {}

  protected:
    zmq_socket_owner() = default;
    ~zmq_socket_owner() = default;
    zmq_socket_owner(const zmq_socket_owner&) = default;
    zmq_socket_owner& operator=(const zmq_socket_owner&) = default;
};

// What every receiving cell on ZeroMQ does, over the socket of its type; Interface is
// receiver_impl or one of its extensions.
template <class Interface>
class zmq_receiving_cell : public Interface, public zmq_socket_owner {
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
    connection_counts connections() const override { return socket_.connections(); }
    std::vector<connection_info> open_connections() const override {
        return socket_.open_connections();
    }
    zmq_socket& owned_socket() noexcept override { return socket_; }

  protected:
    zmq_socket socket_;
};

// Whether io_model::automatic makes a connecting role zpat's own (raw/zmtp_link.hpp): every
// endpoint a tcp:// connect, and no CURVE.
bool own_zmtp_fits(const std::vector<endpoint>& endpoints, const options& opts);

std::unique_ptr<requester_impl> make_zmq_requester(const std::vector<endpoint>&, const options&);
std::unique_ptr<replier_impl> make_zmq_replier(const std::vector<endpoint>&, const options&);
std::unique_ptr<sender_impl> make_zmq_pusher(const std::vector<endpoint>&, const options&);
std::unique_ptr<receiver_impl> make_zmq_puller(const std::vector<endpoint>&, const options&);
std::unique_ptr<publisher_impl> make_zmq_publisher(const std::vector<endpoint>&, const options&);
std::unique_ptr<subscriber_impl> make_zmq_subscriber(const std::vector<endpoint>&, const options&);
std::unique_ptr<router_impl> make_zmq_router(const std::vector<endpoint>&, const options&);
std::unique_ptr<dealer_impl> make_zmq_dealer(const std::vector<endpoint>&, const options&);
std::unique_ptr<xpublisher_impl> make_zmq_xpublisher(const std::vector<endpoint>&, const options&);
std::unique_ptr<xsubscriber_impl> make_zmq_xsubscriber(const std::vector<endpoint>&,
                                                       const options&);
std::unique_ptr<relay_impl> make_zmq_relay(receiver_impl& from, sender_impl& to);
std::unique_ptr<stream_impl> make_zmq_stream(const std::vector<endpoint>&, const options&);
std::unique_ptr<service_worker_impl> make_zmq_service_worker(const std::vector<endpoint>&,
                                                             std::string_view service,
                                                             const options&);

}  // namespace zpat::detail
