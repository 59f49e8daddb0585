// XPublisher and XSubscriber on ZeroMQ: XPUB and XSUB sockets. The XPUB is verboser, so that
// every subscribe and unsubscribe reaches the user (a forwarder counts them and passes each one
// upstream), and does not drop for a full subscriber under options::block_when_full. With
// options::io = io_model::caller, the xpublisher is zpat's own (raw/zmtp_xpub.hpp) instead.

#include "raw/zmtp_xpub.hpp"
#include "seam/registry.hpp"
#include "zmq_cells.hpp"
#include "zmq_subscription_limits.hpp"

namespace zpat::detail {
namespace {

class zmq_xpublisher final : public xpublisher_impl, public zmq_socket_owner {
  public:
    zmq_xpublisher(const std::vector<endpoint>& endpoints, const options& opts)
        : socket_(zmq::socket_type::xpub, endpoints, opts), limits_(socket_) {
        socket_.set(zmq::sockopt::xpub_verboser, 1);
        socket_.set(zmq::sockopt::xpub_nodrop, opts.block_when_full ? 1 : 0);
        socket_.track_sources();
    }

    bool send(const message& msg) override { return socket_.send(msg); }
    // Every subscription is handed over, also one that takes its subscriber past a limit (which
    // is then cut off): libzmq has applied it, and unsubscribes it when the connection ends.
    bool receive_subscription(message& into, milliseconds timeout) override {
        if (!socket_.receive(into, timeout)) {
            return false;
        }
        if (into.size() == 1) {
            limits_.note(into[0]);
        }
        return true;
    }
    poll_handle subscriptions_handle() const override { return socket_.handle(); }
    const std::vector<std::string>& endpoints() const override { return socket_.endpoints(); }
    connection_counts connections() const override { return socket_.connections(); }
    std::vector<connection_info> open_connections() const override {
        return socket_.open_connections();
    }
    zmq_socket& owned_socket() noexcept override { return socket_; }

  private:
    zmq_socket socket_;
    subscription_limits limits_;
};

// The xpublisher whose I/O runs on its caller's thread.
class caller_xpublisher final : public xpublisher_impl {
  public:
    caller_xpublisher(const std::vector<endpoint>& endpoints, const options& opts)
        : xpub_(endpoints, opts), options_(opts) {}

    bool send(const message& msg) override {
        check_sendable(msg, options_);
        return xpub_.send(msg, options_.block_when_full);
    }
    bool receive_subscription(message& into, milliseconds timeout) override {
        return xpub_.receive_subscription(into, timeout);
    }
    poll_handle subscriptions_handle() const override {
        return poll_handle::waiting_itself(xpub_, xpub_.fd());
    }
    std::uint64_t dropped() const override { return xpub_.dropped(); }
    const std::vector<std::string>& endpoints() const override { return xpub_.endpoints(); }
    connection_counts connections() const override { return xpub_.connections(); }
    std::vector<connection_info> open_connections() const override {
        return xpub_.open_connections();
    }

  private:
    mutable zmtp_xpublisher xpub_;  // a poller waits in it (wait_beside), as it would on fd()
    options options_;
};

class zmq_xsubscriber final : public zmq_receiving_cell<xsubscriber_impl> {
  public:
    zmq_xsubscriber(const std::vector<endpoint>& endpoints, const options& opts)
        : zmq_receiving_cell(zmq::socket_type::xsub, endpoints, opts) {}

    bool send(const message& msg) override { return socket_.send(msg); }
};

}  // namespace

std::unique_ptr<xpublisher_impl> make_zmq_xpublisher(const std::vector<endpoint>& endpoints,
                                                     const options& opts) {
    if (opts.io == io_model::caller) {
        return std::make_unique<caller_xpublisher>(endpoints, opts);
    }
    return std::make_unique<zmq_xpublisher>(endpoints, opts);
}

std::unique_ptr<xsubscriber_impl> make_zmq_xsubscriber(const std::vector<endpoint>& endpoints,
                                                       const options& opts) {
    return std::make_unique<zmq_xsubscriber>(endpoints, opts);
}

}  // namespace zpat::detail
