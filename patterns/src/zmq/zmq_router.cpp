// Router on ZeroMQ: a ROUTER socket. libzmq is given a per-frame ceiling of twice
// options::max_message_size: a message somewhat over the limit is received, then dropped and
// counted by zmq_socket, instead of costing its sender the connection without a word; a frame
// past the ceiling (a hostile length) never gets its memory, and its connection is closed.
// With options::io = io_model::caller, the router is zpat's own (raw/zmtp_router.hpp) instead.

#include <limits>

#include "zpat/core/error.hpp"

#include "raw/zmtp_router.hpp"
#include "zmq_cells.hpp"

namespace zpat::detail {
namespace {

options with_frame_ceiling(options opts) {
    const std::size_t limit = opts.max_message_size;
    opts.max_message_size = limit > std::numeric_limits<std::size_t>::max() / 2 ? limit : limit * 2;
    return opts;
}

class zmq_router final : public zmq_receiving_cell<router_impl> {
  public:
    zmq_router(const std::vector<endpoint>& endpoints, const options& opts)
        : zmq_receiving_cell(zmq::socket_type::router, endpoints, with_frame_ceiling(opts)) {
        socket_.limit_messages(opts.max_message_size);
        // Mandatory routing: a send to a peer that is not there fails at once, so it can be
        // counted, and a full peer makes send wait up to the send timeout instead of dropping.
        socket_.set(zmq::sockopt::router_mandatory, 1);
    }

    bool send(const message& msg) override {
        try {
            return socket_.send(msg);
        } catch (const connection_error&) {  // EHOSTUNREACH: no peer by that identity
            ++unroutable_;
            return false;
        }
    }
    std::uint64_t unroutable() const noexcept override { return unroutable_; }
    const std::string& peer_key() const noexcept override { return socket_.peer_key(); }

  private:
    std::uint64_t unroutable_ = 0;
};

// The router whose I/O runs on its caller's thread.
class caller_router final : public router_impl {
  public:
    caller_router(const std::vector<endpoint>& endpoints, const options& opts)
        : router_(endpoints, opts), options_(opts) {}

    bool send(const message& msg) override {
        check_sendable(msg, options_);
        return router_.send(msg);
    }
    bool receive(message& into, milliseconds timeout) override {
        return router_.receive(into, timeout);
    }
    std::uint64_t oversized_dropped() const noexcept override {
        return router_.oversized_dropped();
    }
    std::uint64_t unroutable() const noexcept override { return router_.unroutable(); }
    const std::string& peer_key() const noexcept override { return no_key_; }
    poll_handle handle() const override {
        return poll_handle::waiting_itself(router_, router_.fd());
    }
    const std::vector<std::string>& endpoints() const override { return router_.endpoints(); }
    connection_counts connections() const override { return router_.connections(); }
    std::vector<connection_info> open_connections() const override {
        return router_.open_connections();
    }

  private:
    mutable zmtp_router router_;  // a poller waits in it (wait_beside), as it would on fd()
    options options_;
    std::string no_key_;
};

}  // namespace

std::unique_ptr<router_impl> make_zmq_router(const std::vector<endpoint>& endpoints,
                                             const options& opts) {
    if (opts.io == io_model::caller) {
        return std::make_unique<caller_router>(endpoints, opts);
    }
    return std::make_unique<zmq_router>(endpoints, opts);
}

}  // namespace zpat::detail
