// Service worker on ZeroMQ: the Majordomo worker of RFC 7/MDP on one DEALER socket.
//
// The worker registers with READY, then answers REQUEST commands with REPLY. Heartbeats go out
// every heartbeat_interval while it waits; anything heard from the broker proves it alive. After
// heartbeat_liveness silent intervals the worker drops the connection, waits reconnect_interval
// and registers again on a fresh socket, as it does at once when the broker says DISCONNECT.

#include <algorithm>
#include <array>
#include <chrono>

#include "zmq_cells.hpp"
#include "zpat/core/error.hpp"
#include "zpat/majordomo.hpp"

namespace zpat::detail {
namespace {

using clock = std::chrono::steady_clock;

options worker_options(options opts) {
    // A heartbeat that finds no room is simply skipped: the worker must never block on send.
    opts.send_timeout = milliseconds{0};
    return opts;
}

class zmq_service_worker final : public service_worker_impl {
  public:
    zmq_service_worker(const std::vector<endpoint>& endpoints, std::string_view service,
                       const options& opts)
        : socket_(zmq::socket_type::dealer, endpoints, worker_options(opts)),
          service_(service),
          expiry_(opts.heartbeat_interval * std::max(1, opts.heartbeat_liveness)) {
        announce();
    }

    ~zmq_service_worker() override {
        // Leaving politely lets the broker forget this worker now instead of after the expiry.
        if (connected_) {
            send_command(mdp::command::disconnect);
        }
    }

    bool receive(message& body, milliseconds timeout) override {
        if (pending_) {
            throw state_error("service_worker::receive called while a request awaits its reply");
        }
        const clock::time_point deadline =
            timeout == forever ? clock::time_point::max() : clock::now() + timeout;
        std::array<zmq::pollitem_t, 2> items{
            {{socket_.handle().socket(), 0, ZMQ_POLLIN, 0}, stopping_.poll_item()}};
        while (!stopping_.requested()) {
            // Take what is queued before looking at the clock: a busy worker stays busy.
            if (connected_ && socket_.receive(in_, milliseconds{0})) {
                if (handle(in_, body)) {
                    return true;
                }
                continue;
            }
            const clock::time_point now = clock::now();
            const clock::time_point wake = keep_alive(now);
            if (now >= deadline) {
                return false;
            }
            items[0].socket = socket_.handle().socket();  // a reconnect opened a new one
            items[0].events = connected_ ? ZMQ_POLLIN : 0;
            const auto wait = std::chrono::ceil<milliseconds>(std::min(wake, deadline) - now);
            if (!poll_interrupted(items, std::max(milliseconds{0}, wait)) &&
                (items[1].revents & ZMQ_POLLIN) != 0) {
                stopping_.drain();
            }
        }
        return false;
    }

    void reply(const message& body) override {
        if (!pending_) {
            throw state_error("service_worker::reply called with no request pending");
        }
        check_sendable(body, socket_.opts());
        pending_ = false;
        if (!connected_) {
            return;  // the broker went away meanwhile; the client will retry
        }
        message head{"", mdp::worker_header, mdp::frame_of(mdp::command::reply)};
        head.push_back(std::move(client_));
        head.push_back("");
        socket_.send(head, body);
        heartbeat_due_ = clock::now() + socket_.opts().heartbeat_interval;
    }

    void abandon() override {
        if (!pending_) {
            throw state_error("service_worker::abandon called with no request pending");
        }
        pending_ = false;
        // MDP has no way to refuse a request: to the broker this worker stays busy until it
        // replies. Leaving and registering again makes it idle there.
        send_command(mdp::command::disconnect);
        reconnect();
    }

    void serve(const request_handler& handler) override {
        message request;
        while (receive(request, forever)) {
            try {
                reply(handler(std::move(request)));
            } catch (const std::exception&) {
                ++failures_;
                abandon();
            }
        }
        stopping_.reset();
    }

    void stop() override { stopping_.request(); }

    std::uint64_t reconnects() const noexcept override { return reconnects_; }
    std::uint64_t malformed_commands() const noexcept override { return malformed_; }
    std::uint64_t handler_failures() const noexcept override { return failures_; }
    const std::vector<std::string>& endpoints() const override { return socket_.endpoints(); }
    connection_counts connections() const override { return socket_.connections(); }
    std::vector<connection_info> open_connections() const override {
        return socket_.open_connections();
    }

  private:
    void send_command(mdp::command c, std::string_view argument = {}) {
        message cmd{"", mdp::worker_header, mdp::frame_of(c)};
        if (!argument.empty()) {
            cmd.push_back(argument);
        }
        socket_.send(cmd);
    }

    // Registers on the current socket and starts the heartbeat clock afresh.
    void announce() {
        send_command(mdp::command::ready, service_);
        connected_ = true;
        const clock::time_point now = clock::now();
        last_heard_ = now;
        heartbeat_due_ = now + socket_.opts().heartbeat_interval;
    }

    void reconnect() {
        ++reconnects_;
        socket_.reopen();
        announce();
    }

    // Sends a heartbeat when one is due, notices a silent broker, and reconnects when the wait
    // after losing it is over. Returns when it next needs to run.
    clock::time_point keep_alive(clock::time_point now) {
        if (!connected_) {
            if (now < reconnect_at_) {
                return reconnect_at_;
            }
            reconnect();
        } else if (now - last_heard_ > expiry_) {
            // Close now, so nothing more is queued for a broker that is gone; open after a pause.
            connected_ = false;
            reconnect_at_ = now + socket_.opts().reconnect_interval;
            return reconnect_at_;
        }
        if (now >= heartbeat_due_) {
            send_command(mdp::command::heartbeat);
            heartbeat_due_ = now + socket_.opts().heartbeat_interval;
        }
        return std::min(heartbeat_due_, last_heard_ + expiry_ + milliseconds{1});
    }

    // Acts on one message from the broker. Returns true when it was a request, now in `body`.
    bool handle(message& in, message& body) {
        last_heard_ = clock::now();
        if (in.size() < 3 || !in[0].empty() || in[1] != mdp::worker_header || in[2].size() != 1) {
            ++malformed_;
            return false;
        }
        const auto cmd = static_cast<mdp::command>(in[2][0]);
        if (cmd == mdp::command::request && in.size() >= 5 && in[4].empty()) {
            client_ = std::move(in[3]);
            body.clear();
            for (std::size_t i = 5; i < in.size(); ++i) {
                body.push_back(std::move(in[i]));
            }
            pending_ = true;
            return true;
        }
        if (cmd == mdp::command::disconnect) {
            reconnect();
        } else if (cmd != mdp::command::heartbeat) {
            ++malformed_;
        }
        return false;
    }

    zmq_socket socket_;
    std::string service_;
    milliseconds expiry_;
    zmq_stop_signal stopping_;
    bool connected_ = false;
    bool pending_ = false;
    std::string client_;
    message in_;  // reused for every command from the broker
    clock::time_point last_heard_{};
    clock::time_point heartbeat_due_{};
    clock::time_point reconnect_at_{};
    std::uint64_t reconnects_ = 0;
    std::uint64_t malformed_ = 0;
    std::uint64_t failures_ = 0;
};

}  // namespace

std::unique_ptr<service_worker_impl> make_zmq_service_worker(const std::vector<endpoint>& endpoints,
                                                             std::string_view service,
                                                             const options& opts) {
    return std::make_unique<zmq_service_worker>(endpoints, service, opts);
}

}  // namespace zpat::detail
