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
#include <type_traits>

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

// A server on libzmq: a REQ socket (connected to them all, when they are not separate).
class zmq_server {
  public:
    zmq_server(const std::vector<endpoint>& endpoints, const options& opts)
        : socket_(zmq::socket_type::req, endpoints, opts) {}

    // One attempt: true once the reply is in `reply`. A server that refused this client is not
    // asked again before its back-off ends (zmq_reconnect.hpp): each request until then fails
    // at once, with the reason.
    bool attempt(const message& request, message& reply) {
        const milliseconds left = socket_.backoff_left();
        if (left.count() > 0) {
            std::string why = socket_.watched().reason();
            throw security_error(
                (why.empty() ? "the CURVE handshake with the server failed" : why) +
                "; the next attempt in " + std::to_string(left.count()) + " ms");
        }
        if (!socket_.send(request)) {
            return false;
        }
        try {
            return socket_.receive_unless_refused(reply, socket_.opts().request_timeout);
        } catch (const security_error&) {
            socket_.reopen();  // a REQ socket waiting for a reply takes no next request
            throw;
        }
    }
    void reopen() { socket_.reopen(); }
    const std::vector<std::string>& endpoints() const { return socket_.endpoints(); }
    connection_counts connections() const { return socket_.connections(); }
    std::vector<connection_info> open_connections() const { return socket_.open_connections(); }

  private:
    zmq_socket socket_;
};

constexpr std::array<std::string_view, 2> req_talks_to{"REP", "ROUTER"};
constexpr zmtp_link::kind req_kind{"REQ", req_talks_to, "requester"};

// What a REQ puts before each request: an empty frame.
const message& delimiter() {
    static const message empty{""};
    return empty;
}

// A server on zpat's own ZMTP, doing its I/O on the caller's thread: a REQ on a link. A request
// goes out once the server's connection has finished its handshake, and again on each new
// connection until its attempt ends (one lost before the reply came), so a server that
// restarted between requests costs no timeout.
class zmtp_server {
  public:
    zmtp_server(const std::vector<endpoint>& endpoints, const options& opts)
        : link_(endpoints.front(), opts, req_kind),
          endpoints_{link_.endpoint_text()},
          timeout_(opts.request_timeout) {}

    // Messages that are not a reply (no empty delimiter first) are dropped, as a REQ socket
    // drops them.
    bool attempt(const message& request, message& reply) {
        const auto deadline = timeout_ == forever ? zmtp_link::clock::time_point::max()
                                                  : zmtp_link::clock::now() + timeout_;
        std::uint64_t sent_on = 0;  // connection numbers start at 1
        for (;;) {
            if (link_.is_ready() && link_.connection_number() != sent_on) {
                link_.send(delimiter(), request);
                sent_on = link_.connection_number();
            }
            if (link_.take(reply) && !reply.empty() && reply.front().empty()) {
                reply.pop_front();
                return true;
            }
            if (zmtp_link::clock::now() >= deadline) {
                return false;
            }
            wait_once(link_, std::min(deadline, link_.due()));
        }
    }
    void reopen() { link_.reopen(); }
    const std::vector<std::string>& endpoints() const { return endpoints_; }
    connection_counts connections() const { return link_.connections(); }
    std::vector<connection_info> open_connections() const { return link_.open_connections(); }

  private:
    zmtp_link link_;
    std::vector<std::string> endpoints_;
    milliseconds timeout_;
};

// The Lazy Pirate over one or more servers: an attempt that gets no reply drops its
// connection, as a REQ socket must be dropped, and the next attempt goes to the next server.
template <class Server>
class failover_requester final : public requester_impl {
  public:
    failover_requester(const std::vector<endpoint>& endpoints, const options& opts)
        : options_(opts) {
        if (separate_servers(endpoints) || std::is_same_v<Server, zmtp_server>) {
            for (const endpoint& ep : endpoints) {
                servers_.push_back(std::make_unique<Server>(std::vector<endpoint>{ep}, opts));
            }
        } else {
            servers_.push_back(std::make_unique<Server>(endpoints, opts));
        }
        for (const auto& server : servers_) {
            endpoints_.insert(endpoints_.end(), server->endpoints().begin(),
                              server->endpoints().end());
        }
    }

    std::optional<message> request(const message& request) override {
        check_sendable(request, options_);
        const int attempts = 1 + std::max(0, options_.retries);
        for (attempts_ = 1; attempts_ <= attempts; ++attempts_) {
            Server& server = *servers_[next_];
            message reply;
            if (server.attempt(request, reply)) {
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
    options options_;
    std::vector<std::unique_ptr<Server>> servers_;
    std::vector<std::string> endpoints_;
    std::size_t next_ = 0;  // the server the next attempt goes to
    int attempts_ = 0;
};

}  // namespace

std::unique_ptr<requester_impl> make_zmq_requester(const std::vector<endpoint>& endpoints,
                                                   const options& opts) {
    if (opts.io == io_model::caller ||
        (opts.io == io_model::automatic && own_zmtp_fits(endpoints, opts))) {
        return std::make_unique<failover_requester<zmtp_server>>(endpoints, opts);
    }
    return std::make_unique<failover_requester<zmq_server>>(endpoints, opts);
}

}  // namespace zpat::detail
