// Subscriber on ZeroMQ: a SUB socket. libzmq sends the subscriptions upstream, so a publisher
// filters before the network, and also filters locally, so an unsubscribe takes effect at once.

#include "zmq_cells.hpp"

namespace zpat::detail {
namespace {

class zmq_subscriber final : public subscriber_impl {
  public:
    zmq_subscriber(const std::vector<endpoint>& endpoints, const options& opts)
        : socket_(zmq::socket_type::sub, endpoints, opts) {}

    void subscribe(std::string_view prefix) override {
        socket_.socket().set(zmq::sockopt::subscribe, prefix);
    }
    void unsubscribe(std::string_view prefix) override {
        socket_.socket().set(zmq::sockopt::unsubscribe, prefix);
    }
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

std::unique_ptr<subscriber_impl> make_zmq_subscriber(const std::vector<endpoint>& endpoints,
                                                     const options& opts) {
    return std::make_unique<zmq_subscriber>(endpoints, opts);
}

}  // namespace zpat::detail
