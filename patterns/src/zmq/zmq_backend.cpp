// The ZeroMQ backend: tcp://, ipc:// and inproc:// through libzmq. Every cell is built.

#include "zmq_cells.hpp"

namespace zpat::detail {
namespace {

class zmq_transport final : public backend {
  public:
    std::string_view name() const override { return "zeromq"; }
    std::unique_ptr<requester_impl> make_requester(const std::vector<endpoint>& e,
                                                   const options& o) override {
        return make_zmq_requester(e, o);
    }
    std::unique_ptr<replier_impl> make_replier(const std::vector<endpoint>& e,
                                               const options& o) override {
        return make_zmq_replier(e, o);
    }
    std::unique_ptr<sender_impl> make_pusher(const std::vector<endpoint>& e,
                                             const options& o) override {
        return make_zmq_pusher(e, o);
    }
    std::unique_ptr<receiver_impl> make_puller(const std::vector<endpoint>& e,
                                               const options& o) override {
        return make_zmq_puller(e, o);
    }
    std::unique_ptr<publisher_impl> make_publisher(const std::vector<endpoint>& e,
                                                   const options& o) override {
        return make_zmq_publisher(e, o);
    }
    std::unique_ptr<subscriber_impl> make_subscriber(const std::vector<endpoint>& e,
                                                     const options& o) override {
        return make_zmq_subscriber(e, o);
    }
};

}  // namespace

backend& zmq_backend() {
    static zmq_transport instance;
    return instance;
}

}  // namespace zpat::detail
