// Subscriber on ZeroMQ: a SUB socket. libzmq sends the subscriptions upstream, so a publisher
// filters before the network, and also filters locally, so an unsubscribe takes effect at once.

#include "zmq_cells.hpp"

namespace zpat::detail {
namespace {

class zmq_subscriber final : public zmq_receiving_cell<subscriber_impl> {
  public:
    zmq_subscriber(const std::vector<endpoint>& endpoints, const options& opts)
        : zmq_receiving_cell(zmq::socket_type::sub, endpoints, opts) {}

    void subscribe(std::string_view prefix) override {
        socket_.set(zmq::sockopt::subscribe, prefix);
    }
    void unsubscribe(std::string_view prefix) override {
        socket_.set(zmq::sockopt::unsubscribe, prefix);
    }
};

}  // namespace

std::unique_ptr<subscriber_impl> make_zmq_subscriber(const std::vector<endpoint>& endpoints,
                                                     const options& opts) {
    return std::make_unique<zmq_subscriber>(endpoints, opts);
}

}  // namespace zpat::detail
