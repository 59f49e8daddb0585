// XPublisher and XSubscriber on ZeroMQ: XPUB and XSUB sockets. The XPUB is verboser, so that
// every subscribe and unsubscribe reaches the user (a forwarder counts them and passes each one
// upstream), and does not drop for a full subscriber under options::block_when_full. With
// options::io = io_model::caller, they are zpat's own (raw/zmtp_xpub.hpp, raw/zmtp_xsub.hpp)
// instead, and a relay from one to the other passes the messages through as the wire encoded
// them (raw/raw_relay.hpp).

#include "raw/raw_relay.hpp"
#include "raw/zmtp_xpub.hpp"
#include "raw/zmtp_xsub.hpp"
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
class caller_xpublisher final : public xpublisher_impl, public encoded_sink {
  public:
    caller_xpublisher(const std::vector<endpoint>& endpoints, const options& opts)
        : xpub_(endpoints, opts), options_(opts) {}

    framing encoding() const noexcept override { return framing::zmtp; }
    encoded_sent send_encoded(std::string_view encoded) override {
        return xpub_.send_encoded(encoded, options_.block_when_full, options_);
    }
    const options& send_limits() const override { return options_; }
    void flush_encoded() override { xpub_.flush_queued(); }

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

// The xsubscriber whose I/O runs on its caller's thread.
class caller_xsubscriber final : public xsubscriber_impl, public encoded_source {
  public:
    caller_xsubscriber(const std::vector<endpoint>& endpoints, const options& opts)
        : xsub_(endpoints, opts), options_(opts) {}

    bool send(const message& msg) override {
        check_sendable(msg, options_);
        xsub_.send(msg);
        return true;
    }
    bool receive(message& into, milliseconds timeout) override {
        return xsub_.receive(into, timeout);
    }
    framing encoding() const noexcept override { return framing::zmtp; }
    std::string_view next_encoded() override { return xsub_.next_encoded(); }
    void took_encoded(std::size_t bytes) override { xsub_.took_encoded(bytes); }
    bool holds_read() const noexcept override { return xsub_.holds_read(); }
    std::uint64_t oversized_dropped() const noexcept override { return xsub_.oversized_dropped(); }
    std::uint64_t dropped() const override { return xsub_.dropped(); }
    poll_handle handle() const override { return poll_handle::waiting_itself(xsub_, xsub_.fd()); }
    const std::vector<std::string>& endpoints() const override { return xsub_.endpoints(); }
    connection_counts connections() const override { return xsub_.connections(); }
    std::vector<connection_info> open_connections() const override {
        return xsub_.open_connections();
    }

  private:
    mutable zmtp_xsubscriber xsub_;  // a poller waits in it (wait_beside), as it would on fd()
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
    if (opts.io == io_model::caller) {
        return std::make_unique<caller_xsubscriber>(endpoints, opts);
    }
    return std::make_unique<zmq_xsubscriber>(endpoints, opts);
}

}  // namespace zpat::detail
