// Pipeline receiver on ZeroMQ: a PULL socket, which fair-queues between connected pushers.

#include "zmq_cells.hpp"

namespace zpat::detail {
namespace {

class zmq_puller final : public receiver_impl {
  public:
    zmq_puller(const std::vector<endpoint>& endpoints, const options& opts)
        : socket_(zmq::socket_type::pull, endpoints, opts) {}

    bool receive(message& into, milliseconds timeout) override {
        return socket_.receive(into, timeout);
    }
    std::uint64_t oversized_dropped() const noexcept override {
        return socket_.oversized_dropped();
    }
    poll_handle handle() const override { return socket_.handle(); }
    const std::vector<std::string>& endpoints() const override { return socket_.endpoints(); }

  private:
    zmq_socket socket_;
};

}  // namespace

std::unique_ptr<receiver_impl> make_zmq_puller(const std::vector<endpoint>& endpoints,
                                               const options& opts) {
    return std::make_unique<zmq_puller>(endpoints, opts);
}

}  // namespace zpat::detail
