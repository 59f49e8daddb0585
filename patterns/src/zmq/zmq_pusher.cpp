// Pipeline sender on ZeroMQ: a PUSH socket, which round-robins over connected pullers and waits
// at the high-water mark.

#include "zmq_cells.hpp"

namespace zpat::detail {
namespace {

class zmq_pusher final : public sender_impl, public zmq_socket_owner {
  public:
    zmq_pusher(const std::vector<endpoint>& endpoints, const options& opts)
        : socket_(zmq::socket_type::push, endpoints, opts) {}

    bool send(const message& msg) override { return socket_.send(msg); }
    const std::vector<std::string>& endpoints() const override { return socket_.endpoints(); }
    connection_counts connections() const override { return socket_.connections(); }
    std::vector<connection_info> open_connections() const override {
        return socket_.open_connections();
    }
    zmq_socket& owned_socket() noexcept override { return socket_; }

  private:
    zmq_socket socket_;
};

}  // namespace

std::unique_ptr<sender_impl> make_zmq_pusher(const std::vector<endpoint>& endpoints,
                                             const options& opts) {
    return std::make_unique<zmq_pusher>(endpoints, opts);
}

}  // namespace zpat::detail
