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
//
// With options::io = io_model::caller, and by default (io_model::automatic) where every
// endpoint is a tcp:// connect and there is no CURVE, each server is a REQ of zpat's own
// instead (raw/zmtp_link.hpp): the request is written and its reply read on the caller's
// thread, with the same recovery and failover.

#include <algorithm>
#include <array>
#include <iterator>
#include <memory>
#include <string_view>

#include "raw/zmtp_link.hpp"
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

constexpr std::array<std::string_view, 2> req_talks_to{"REP", "ROUTER"};
constexpr zmtp_link::kind req_kind{"REQ", req_talks_to, "requester"};
// What a REQ puts before each request: an empty frame.
const message& delimiter() {
    static const message empty{""};
    return empty;
}

// The requester whose I/O runs on its caller's thread: one link per server, each a REQ. A
// request goes out once the server's connection has finished its handshake, and again on each
// new connection until its attempt ends (one lost before the reply came), so a server that
// restarted between requests costs no timeout. An attempt that times out drops its
// connection, as a REQ socket must be dropped, and the next attempt goes to the next server.
class caller_requester final : public requester_impl {
  public:
    caller_requester(const std::vector<endpoint>& servers, const options& opts) : options_(opts) {
        for (const endpoint& server : servers) {
            links_.push_back(std::make_unique<zmtp_link>(server, opts, req_kind));
            endpoints_.push_back(links_.back()->endpoint_text());
        }
    }

    std::optional<message> request(const message& request) override {
        check_sendable(request, options_);
        const int attempts = 1 + std::max(0, options_.retries);
        for (attempts_ = 1; attempts_ <= attempts; ++attempts_) {
            zmtp_link& server = *links_[next_];
            message reply;
            if (exchange(server, request, reply)) {
                return reply;  // the next request goes here too
            }
            server.reopen();
            next_ = (next_ + 1) % links_.size();
        }
        attempts_ = attempts;
        return std::nullopt;
    }

    int last_attempts() const noexcept override { return attempts_; }
    const std::vector<std::string>& endpoints() const override { return endpoints_; }
    connection_counts connections() const override {
        connection_counts all;
        for (const auto& link : links_) {
            all += link->connections();
        }
        return all;
    }
    std::vector<connection_info> open_connections() const override {
        std::vector<connection_info> all;
        for (const auto& link : links_) {
            auto some = link->open_connections();
            all.insert(all.end(), std::make_move_iterator(some.begin()),
                       std::make_move_iterator(some.end()));
        }
        return all;
    }

  private:
    // One attempt on `server`: true once its reply is in `reply`. Messages that are not a
    // reply (no empty delimiter first) are dropped, as a REQ socket drops them.
    bool exchange(zmtp_link& server, const message& request, message& reply) const {
        const auto deadline = options_.request_timeout == forever
                                  ? zmtp_link::clock::time_point::max()
                                  : zmtp_link::clock::now() + options_.request_timeout;
        std::uint64_t sent_on = 0;  // connection numbers start at 1
        for (;;) {
            if (server.is_ready() && server.connection_number() != sent_on) {
                server.send(delimiter(), request);
                sent_on = server.connection_number();
            }
            if (server.take(reply) && !reply.empty() && reply.front().empty()) {
                reply.pop_front();
                return true;
            }
            if (zmtp_link::clock::now() >= deadline) {
                return false;
            }
            wait_once(server, std::min(deadline, server.due()));
        }
    }

    options options_;
    std::vector<std::unique_ptr<zmtp_link>> links_;
    std::vector<std::string> endpoints_;
    std::size_t next_ = 0;  // the server the next attempt goes to
    int attempts_ = 0;
};

}  // namespace

std::unique_ptr<requester_impl> make_zmq_requester(const std::vector<endpoint>& endpoints,
                                                   const options& opts) {
    if (opts.io == io_model::caller ||
        (opts.io == io_model::automatic && own_zmtp_fits(endpoints, opts))) {
        return std::make_unique<caller_requester>(endpoints, opts);
    }
    return std::make_unique<zmq_requester>(endpoints, opts);
}

}  // namespace zpat::detail
