// Dealer on ZeroMQ: a DEALER socket. Its sends wait up to options::send_timeout for a peer with
// room, as a pusher's do.

#include "zmq_cells.hpp"

namespace zpat::detail {
namespace {

class zmq_dealer final : public zmq_receiving_cell<dealer_impl> {
  public:
    zmq_dealer(const std::vector<endpoint>& endpoints, const options& opts)
        : zmq_receiving_cell(zmq::socket_type::dealer, endpoints, opts) {}

    bool send(const message& msg) override { return socket_.send(msg); }
};

}  // namespace

std::unique_ptr<dealer_impl> make_zmq_dealer(const std::vector<endpoint>& endpoints,
                                             const options& opts) {
    return std::make_unique<zmq_dealer>(endpoints, opts);
}

}  // namespace zpat::detail
