// Requester on ZeroMQ: a REQ socket with the Lazy Pirate recovery. A REQ socket that lost its
// reply is stuck waiting for it forever, so on timeout we close it, discarding the request,
// open a fresh one and send again. A CURVE client that a server refuses is told so at once, as
// a security_error, instead of waiting out every attempt.

#include "zmq_cells.hpp"

namespace zpat::detail {
namespace {

class zmq_requester final : public requester_impl {
  public:
    zmq_requester(const std::vector<endpoint>& endpoints, const options& opts)
        : socket_(zmq::socket_type::req, endpoints, opts) {}

    std::optional<message> request(const message& request) override {
        check_sendable(request, socket_.opts());
        const int attempts = 1 + std::max(0, socket_.opts().retries);
        for (attempts_ = 1; attempts_ <= attempts; ++attempts_) {
            message reply;
            if (socket_.send(request) && receive(reply)) {
                return reply;
            }
            socket_.reopen();
        }
        attempts_ = attempts;
        return std::nullopt;
    }

    int last_attempts() const noexcept override { return attempts_; }
    const std::vector<std::string>& endpoints() const override { return socket_.endpoints(); }
    connection_counts connections() const override { return socket_.connections(); }

  private:
    bool receive(message& reply) {
        try {
            return socket_.receive_unless_refused(reply, socket_.opts().request_timeout);
        } catch (const security_error&) {
            socket_.reopen();  // a REQ socket waiting for a reply takes no next request
            throw;
        }
    }

    zmq_socket socket_;
    int attempts_ = 0;
};

}  // namespace

std::unique_ptr<requester_impl> make_zmq_requester(const std::vector<endpoint>& endpoints,
                                                   const options& opts) {
    return std::make_unique<zmq_requester>(endpoints, opts);
}

}  // namespace zpat::detail
