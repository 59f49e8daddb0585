// Requester on ZeroMQ: a REQ socket with the Lazy Pirate recovery. A REQ socket that lost its
// reply is stuck waiting for it forever, so on timeout we close it, discarding the request,
// open a fresh one and send again. A CURVE client that a server refuses is told so at once, as
// a security_error, instead of waiting out every attempt, and is not asked again before the
// client's back-off ends.
//
// Given several servers to connect to, it fails over as the Guide's Freelance client (model
// one) does: one REQ socket per server, each attempt sent to the next server in turn, so that a
// server that is down or does not answer costs one attempt and no more. (One REQ socket
// connected to them all would send each fresh attempt to the same first server again.) Requests
// stay with the server that answered last, as the Guide's Binary Star client does: of a pair,
// the passive broker drops requests, and a turn that went on regardless would cost every other
// request a timeout there.

#include <iterator>
#include <memory>

#include "zmq_cells.hpp"

namespace zpat::detail {
namespace {

// Whether each endpoint is a server of its own: several, all connected to.
bool separate_servers(const std::vector<endpoint>& endpoints) {
    return endpoints.size() > 1 &&
           std::all_of(endpoints.begin(), endpoints.end(),
                       [](const endpoint& ep) { return ep.side == link::connect; });
}

class zmq_requester final : public requester_impl {
  public:
    zmq_requester(const std::vector<endpoint>& endpoints, const options& opts) {
        if (separate_servers(endpoints)) {
            for (const endpoint& ep : endpoints) {
                servers_.push_back(std::make_unique<zmq_socket>(zmq::socket_type::req,
                                                                std::vector<endpoint>{ep}, opts));
            }
        } else {
            servers_.push_back(
                std::make_unique<zmq_socket>(zmq::socket_type::req, endpoints, opts));
        }
        for (const auto& server : servers_) {
            endpoints_.insert(endpoints_.end(), server->endpoints().begin(),
                              server->endpoints().end());
        }
    }

    std::optional<message> request(const message& request) override {
        check_sendable(request, opts());
        const int attempts = 1 + std::max(0, opts().retries);
        for (attempts_ = 1; attempts_ <= attempts; ++attempts_) {
            zmq_socket& server = *servers_[next_];
            refuse_while_backing_off(server);
            message reply;
            if (server.send(request) && receive(server, reply)) {
                return reply;  // the next request goes here too
            }
            server.reopen();
            next_ = (next_ + 1) % servers_.size();
        }
        attempts_ = attempts;
        return std::nullopt;
    }

    int last_attempts() const noexcept override { return attempts_; }
    const std::vector<std::string>& endpoints() const override { return endpoints_; }
    connection_counts connections() const override {
        connection_counts all;
        for (const auto& server : servers_) {
            all += server->connections();
        }
        return all;
    }
    std::vector<connection_info> open_connections() const override {
        std::vector<connection_info> all;
        for (const auto& server : servers_) {
            auto some = server->open_connections();
            all.insert(all.end(), std::make_move_iterator(some.begin()),
                       std::make_move_iterator(some.end()));
        }
        return all;
    }

  private:
    const options& opts() const { return servers_.front()->opts(); }

    // A server that refused this client is not asked again before its back-off ends
    // (zmq_reconnect.hpp): each request until then fails at once, with the reason.
    static void refuse_while_backing_off(zmq_socket& server) {
        const milliseconds left = server.backoff_left();
        if (left.count() > 0) {
            std::string why = server.watched().reason();
            throw security_error(
                (why.empty() ? "the CURVE handshake with the server failed" : why) +
                "; the next attempt in " + std::to_string(left.count()) + " ms");
        }
    }

    static bool receive(zmq_socket& server, message& reply) {
        try {
            return server.receive_unless_refused(reply, server.opts().request_timeout);
        } catch (const security_error&) {
            server.reopen();  // a REQ socket waiting for a reply takes no next request
            throw;
        }
    }

    std::vector<std::unique_ptr<zmq_socket>> servers_;
    std::vector<std::string> endpoints_;
    std::size_t next_ = 0;  // the server the next attempt goes to
    int attempts_ = 0;
};

}  // namespace

std::unique_ptr<requester_impl> make_zmq_requester(const std::vector<endpoint>& endpoints,
                                                   const options& opts) {
    return std::make_unique<zmq_requester>(endpoints, opts);
}

}  // namespace zpat::detail
