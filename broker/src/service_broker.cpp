// The service broker device: Majordomo MDP/0.1 with the MMI extension (ZeroMQ RFCs 7 and 8) on
// one ROUTER endpoint for clients and workers. The protocol itself is majordomo_broker's; this
// runs it on the socket, with the heartbeat and housekeeping clocks, and counts the traffic.

#include <chrono>
#include <string>
#include <vector>

#include "device.hpp"
#include "majordomo_broker.hpp"
#include "zpat/core/endpoint.hpp"
#include "zpat/core/error.hpp"
#include "zpat/majordomo.hpp"
#include "zpat/router.hpp"

namespace zpat::broker::detail {
namespace {

using clock = std::chrono::steady_clock;
// The Majordomo socket: a router, which only ZeroMQ endpoints offer. It drops a message over
// the limits as it receives it (counted and logged here) and closes a connection only for a
// frame over twice the size limit.
//
// Where zpat's own ZMTP engine serves the endpoint (tcp:// binds without CURVE) the router does
// its I/O on the broker's thread: a request is read, routed and written on one thread, without
// the two wakeups each way that libzmq's I/O thread costs (docs/performance.md, "Majordomo").
options with_own_io(options opts, const std::string& endpoints) {
    opts.io = io_model::caller;
    try {
        check_offered(role_kind::router, endpoints, opts);
    } catch (const unsupported_error&) {
        opts.io = io_model::io_thread;  // ipc://, inproc://, connects or CURVE: libzmq's
    }
    return opts;
}

zpat::router open_router(const service_config& cfg, const device_settings& shared) {
    const options opts = with_own_io(shared.secured({.send_high_water_mark = cfg.high_water_mark,
                                                     .receive_high_water_mark = cfg.high_water_mark,
                                                     .max_message_size = shared.bytes,
                                                     .max_message_frames = shared.frames,
                                                     .send_timeout = milliseconds{0}},
                                                    cfg.endpoint),
                                     bind_by_default(cfg.endpoint));
    try {
        return zpat::router(bind_by_default(cfg.endpoint), opts);
    } catch (const unsupported_error& e) {
        throw unsupported_error("the service broker on '" + cfg.endpoint +
                                "' is not supported: Majordomo is a ZeroMQ protocol (" + e.what() +
                                ")");
    }
}

class service_broker final : public device {
  public:
    service_broker(const service_config& cfg, const device_settings& shared)
        : cfg_(cfg),
          socket_(open_router(cfg, shared)),
          limits_(shared),
          protocol_(cfg, counts_, [this](const message& msg) { send(msg); }) {
        protocol_.hold_clients_to(shared.gate);
        protocol_.hold_to_budget(shared.memory);
    }

    void run(const stop_token& stop) override {
        readiness ready(stop);
        bool waiting = false;
        ready.watch(socket_, waiting);
        clock::time_point heartbeat_at = clock::now() + cfg_.heartbeat_interval;
        clock::time_point tick_at = clock::now();
        message msg;
        while (!stop.requested()) {
            const auto wait =
                std::chrono::ceil<milliseconds>(std::min(heartbeat_at, tick_at) - clock::now());
            if (!waiting) {
                ready.wait(std::max(milliseconds{0}, wait));
            }
            int received = 0;
            while (received < burst && socket_.receive(msg, milliseconds{0})) {
                protocol_.on_message(msg, socket_.peer_key());
                ++received;
            }
            waiting = received == burst;  // more may be there: no wait before the next burst
            note_oversized();
            const clock::time_point now = clock::now();
            if (now >= heartbeat_at) {
                protocol_.heartbeat(now);
                heartbeat_at = now + cfg_.heartbeat_interval;
            }
            if (now >= tick_at) {
                protocol_.expire_requests(now);
                services_table_.publish(protocol_.table());
                tick_at = now + tick;
            }
        }
        drain();
        services_table_.publish(protocol_.table());
    }

    void report(stats& into) const override {
        const auto& counted = protocol_.counted();
        traffic snapshot = counts_.snapshot();
        snapshot.frontend_connections = socket_.connections();
        into.service = service_broker_stats{snapshot,
                                            services_table_.read(),
                                            counted.workers_expired.get(),
                                            counted.disconnects_sent.get(),
                                            counted.mmi_requests.get(),
                                            counted.requests_expired.get(),
                                            counted.requests_rejected.get(),
                                            counted.queued_bytes.get(),
                                            counted.names_refused.get(),
                                            counted.unexpected_dropped.get(),
                                            counted.workers_refused.get(),
                                            counted.calls_refused.get()};
    }
    void list_connections(std::vector<device_connection>& into) const override {
        add_connections(into, "service", "frontend", socket_.open_connections());
    }
    std::vector<std::string> frontend() const override { return socket_.endpoints(); }

  private:
    void send(const message& msg) {
        const std::uint64_t unroutable = socket_.unroutable();
        if (socket_.send(msg)) {
            counts_.messages_out.add();
            counts_.bytes_out.add(msg.byte_size());
        } else if (socket_.unroutable() == unroutable) {
            // That peer's queue is full: dropped for it alone. (A peer that has gone is counted
            // by the router: its reply has nobody to go to.)
            counts_.dropped_full.add();
        }
    }

    // The socket drops messages over the limits as it receives them; count and log them.
    void note_oversized() {
        const std::uint64_t dropped = socket_.oversized_dropped();
        if (dropped != counts_.dropped_oversized.get()) {
            oversized_log_.warn(
                "dropped " + std::to_string(dropped - counts_.dropped_oversized.get()) +
                " message(s) over max-message-size (" + std::to_string(limits_.bytes) +
                " bytes) or max-message-frames (" + std::to_string(limits_.frames) + ")");
            counts_.dropped_oversized.set(dropped);
        }
    }

    // After stop: replies that workers already sent still go to their clients; then every
    // worker is told to go, so that it registers again with the next broker at once.
    void drain() {
        protocol_.stop_dispatching();
        message msg;
        while (socket_.receive(msg, milliseconds{0})) {
            protocol_.on_message(msg, socket_.peer_key());
        }
        protocol_.disconnect_all();
    }

    service_config cfg_;
    zpat::router socket_;
    device_settings limits_;
    traffic_counters counts_;
    majordomo_broker protocol_;  // after counts_, which it counts into
    published<std::vector<service_stats>> services_table_;
    rate_limited_log oversized_log_{"oversized messages"};
};

}  // namespace

std::unique_ptr<device> make_service_broker(const service_config& cfg,
                                            const device_settings& shared) {
    return std::make_unique<service_broker>(cfg, shared);
}

}  // namespace zpat::broker::detail
