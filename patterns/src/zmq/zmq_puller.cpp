// Pipeline receiver on ZeroMQ: a PULL socket, which fair-queues between connected pushers.

#include "zmq_cells.hpp"

namespace zpat::detail {

std::unique_ptr<receiver_impl> make_zmq_puller(const std::vector<endpoint>& endpoints,
                                               const options& opts) {
    return std::make_unique<zmq_receiving_cell<receiver_impl>>(zmq::socket_type::pull, endpoints,
                                                               opts);
}

}  // namespace zpat::detail
