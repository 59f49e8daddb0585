#pragma once
// Helpers for the broker tests: a broker on ephemeral loopback ports, a bare DEALER peer that
// speaks frames directly, and waits on the broker's counters with a deadline.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <zmq.hpp>

#include "zpat/broker/broker.hpp"
#include "zpat/core/message.hpp"
#include "zpat/core/options.hpp"
#include "zpat/service.hpp"

namespace zpat::testing {

using namespace std::chrono_literals;
using broker::stats;

// A broker that runs for the scope of a test.
class running_broker {
  public:
    explicit running_broker(const broker::config& cfg) : broker_(cfg) { broker_.start(); }
    std::string service() const { return broker_.service_endpoint().at(0); }
    std::string forwarder_frontend() const { return broker_.forwarder_frontend().at(0); }
    std::string forwarder_backend() const { return broker_.forwarder_backend().at(0); }
    std::string streamer_frontend() const { return broker_.streamer_frontend().at(0); }
    std::string streamer_backend() const { return broker_.streamer_backend().at(0); }
    std::string stats_endpoint() const { return broker_.stats_endpoint().at(0); }
    stats counters() const { return broker_.counters(); }
    broker::broker& get() { return broker_; }

  private:
    broker::broker broker_;
};

// A service broker alone, with heartbeats fast enough for tests: 100 ms x 3.
inline broker::config service_only() {
    broker::config cfg;
    cfg.service = broker::service_config{
        .endpoint = "tcp://127.0.0.1:*", .heartbeat_interval = 100ms, .heartbeat_liveness = 3};
    return cfg;
}

inline broker::config forwarder_on(const std::string& front, const std::string& back,
                                   bool cache = false) {
    broker::config cfg;
    cfg.forwarder =
        broker::forwarder_config{.frontend = front, .backend = back, .last_value_cache = cache};
    return cfg;
}

// ">" + the bound address: how a role reaches a broker endpoint.
inline std::string at(const std::string& bound) {
    return ">" + bound;
}

inline options fast_heartbeats() {
    return options{
        .heartbeat_interval = 100ms, .heartbeat_liveness = 3, .reconnect_interval = 100ms};
}

// For cases about something else than liveness, which a loaded machine (two cores, a sanitizer)
// must not turn into a flake: a worker and broker that wait 2 s before giving each other up, so
// that neither drops the other while a request is on its way.
inline broker::config patient_service_only() {
    broker::config cfg = service_only();
    cfg.service->heartbeat_liveness = 20;
    return cfg;
}
inline options patient_heartbeats() {
    options opts = fast_heartbeats();
    opts.heartbeat_liveness = 20;
    return opts;
}

// Polls the broker's counters until `condition` holds, for up to `limit`.
inline bool eventually_counted(const running_broker& b,
                               const std::function<bool(const stats&)>& condition,
                               std::chrono::milliseconds limit = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!condition(b.counters())) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        std::this_thread::sleep_for(2ms);
    }
    return true;
}

inline const broker::service_stats* find_service(const stats& s, const std::string& name) {
    if (!s.service) {
        return nullptr;
    }
    for (const auto& v : s.service->services) {
        if (v.name == name) {
            return &v;
        }
    }
    return nullptr;
}
inline std::uint64_t workers(const stats& s, const std::string& name) {
    const auto* v = find_service(s, name);
    return v != nullptr ? v->workers : 0;
}
inline std::uint64_t queued(const stats& s, const std::string& name) {
    const auto* v = find_service(s, name);
    return v != nullptr ? v->queued : 0;
}
inline bool eventually_served(const running_broker& b, const std::string& name, std::uint64_t n) {
    return eventually_counted(b, [&](const stats& s) { return workers(s, name) == n; });
}

// A service worker serving on its own thread for the scope of a test; stopped on the way out,
// whether the test passed or not.
class serving_worker {
  public:
    serving_worker(const std::string& broker, const std::string& service,
                   service_worker::handler handler, const options& opts = fast_heartbeats())
        : worker_(broker, service, opts),
          thread_([this, h = std::move(handler)] { worker_.serve(h); }) {}
    ~serving_worker() {
        worker_.stop();
        thread_.join();
    }
    serving_worker(const serving_worker&) = delete;
    serving_worker& operator=(const serving_worker&) = delete;
    const service_worker& worker() const { return worker_; }

  private:
    service_worker worker_;
    std::thread thread_;
};

inline message echo(message m) {
    return m;
}

// A DEALER that sends and receives exact frames: a client or worker written by someone else.
class raw_peer {
  public:
    explicit raw_peer(const std::string& endpoint) : socket_(context(), zmq::socket_type::dealer) {
        socket_.set(zmq::sockopt::linger, 0);
        socket_.set(zmq::sockopt::rcvtimeo, 2000);
        socket_.connect(endpoint);
    }
    void send(const message& msg) {
        for (std::size_t i = 0; i < msg.size(); ++i) {
            const auto flags =
                i + 1 < msg.size() ? zmq::send_flags::sndmore : zmq::send_flags::none;
            (void)socket_.send(zmq::buffer(msg[i]), flags);
        }
    }
    // The next whole message, or nullopt after two seconds.
    std::optional<message> receive() {
        message out;
        do {
            zmq::message_t part;
            if (!socket_.recv(part)) {
                return std::nullopt;
            }
            out.push_back(part.to_string_view());
        } while (socket_.get(zmq::sockopt::rcvmore));
        return out;
    }

  private:
    static zmq::context_t& context() {
        static zmq::context_t ctx;
        return ctx;
    }
    zmq::socket_t socket_;
};

}  // namespace zpat::testing
