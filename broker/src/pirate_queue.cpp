// The ZeroMQ Guide's load-balancing queue for Pirate workers (ppqueue, RFC 6 "PPP"; the workers
// of spqueue too). Clients are REQ sockets (lpclient) on a router frontend; workers reach a
// router backend and say READY (one frame, 0x01). An idle worker gets the next request, least
// recently used first; its reply, routed back by the client's envelope, makes it idle again.
//
// Two kinds of worker, told apart by their first frame:
//  - Paranoid Pirate (a DEALER): [READY], [HEARTBEAT] (0x02), [client, "", reply...]. The queue
//    heartbeats every idle one each interval and forgets one silent for `liveness` intervals;
//    the worker, hearing nothing, reconnects.
//  - Simple Pirate (a REQ): the same behind an empty delimiter. It cannot take a heartbeat (a
//    REQ takes only the reply to what it sent), so it is forgotten once its connection ends:
//    the router cannot route to it any more.
// The frontend is read only while a worker is idle, so requests wait in the router's queue
// (bounded by its high-water mark) rather than in the device.

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "queue_device.hpp"

namespace zpat::broker::detail {
namespace {

using clock = std::chrono::steady_clock;

constexpr char ready_command = '\x01';
constexpr char heartbeat_command = '\x02';

class pirate_queue final : public device {
  public:
    pirate_queue(const pirate_config& cfg, const device_settings& shared)
        : cfg_(cfg),
          frontend_(open_queue_side<zpat::router>("pirate queue", cfg.frontend, cfg.high_water_mark,
                                                  shared)),
          backend_(open_queue_side<zpat::router>("pirate queue", cfg.backend, cfg.high_water_mark,
                                                 shared)),
          gate_(shared.gate) {}

    void run(const stop_token& stop) override {
        readiness ready(stop);
        bool requests = false;
        bool replies = false;
        bool watching_clients = false;
        ready.watch(backend_, replies);
        clock::time_point heartbeat_at = clock::now() + cfg_.heartbeat_interval;
        while (!stop.requested()) {
            // Clients are heard only while a worker is idle, so a request has somewhere to go,
            // or while the passive broker of a pair, whose requests are votes, then dropped.
            if (watching_clients != (!idle_.empty() || voting())) {
                watching_clients = !watching_clients;
                watching_clients ? ready.watch(frontend_, requests) : ready.unwatch(frontend_);
            }
            if (!replies && !(requests && watching_clients)) {
                const auto until = std::chrono::ceil<milliseconds>(heartbeat_at - clock::now());
                ready.wait(std::clamp(until, milliseconds{0}, milliseconds{tick}));
            }
            replies = pass_from_workers();
            requests = pass_requests();
            if (const auto now = clock::now(); now >= heartbeat_at) {
                heartbeat(now);
                heartbeat_at = now + cfg_.heartbeat_interval;
            }
            counted_.note_oversized(frontend_.oversized_dropped() + backend_.oversized_dropped());
        }
        pass_from_workers();  // replies that workers already sent still reach their clients
    }

    void report(stats& into) const override {
        into.pirate =
            pirate_stats{counted_.snapshot(frontend_.connections(), backend_.connections()),
                         workers_ready_.get(), workers_expired_.get(), heartbeats_sent_.get()};
    }
    void list_connections(std::vector<device_connection>& into) const override {
        add_connections(into, "pirate", "frontend", frontend_.open_connections());
        add_connections(into, "pirate", "backend", backend_.open_connections());
    }
    std::vector<std::string> frontend() const override { return frontend_.endpoints(); }
    std::vector<std::string> backend() const override { return backend_.endpoints(); }

  private:
    struct worker {
        std::string identity;
        bool paranoid = false;  // a DEALER that heartbeats; else a REQ
        clock::time_point expiry;
    };

    // Moves up to a burst of what workers sent. Returns whether more may be waiting.
    bool pass_from_workers() {
        for (int moved = 0; moved < burst; ++moved) {
            if (!backend_.receive(in_, milliseconds{0})) {
                return false;
            }
            counted_.received(in_);
            take_from_worker();
        }
        return true;
    }

    // in_: [worker, ("" from a REQ), READY | HEARTBEAT | client, "", reply...].
    void take_from_worker() {
        const bool simple = in_.size() > 1 && in_[1].empty();
        const std::size_t at = simple ? 2 : 1;
        if (in_.size() <= at) {
            counted_.counts.dropped_malformed.add();
            return;
        }
        make_idle(in_[0], !simple);  // any word from a worker: it is alive and idle
        if (in_.size() == at + 1) {
            const bool command = in_[at].size() == 1 &&
                                 (in_[at][0] == ready_command || in_[at][0] == heartbeat_command);
            if (!command) {
                counted_.counts.dropped_malformed.add();  // neither a command nor a reply
            }
            return;
        }
        for (std::size_t i = at; i < in_.size(); ++i) {
            reply_.assign_frame(i - at, in_[i]);
        }
        reply_.truncate(in_.size() - at);
        counted_.route(frontend_, reply_);
    }

    void make_idle(const std::string& identity, bool paranoid) {
        std::erase_if(idle_, [&](const worker& w) { return w.identity == identity; });
        idle_.push_back(
            {identity, paranoid, clock::now() + cfg_.heartbeat_interval * cfg_.heartbeat_liveness});
        workers_ready_.set(idle_.size());
    }

    // Moves up to a burst of requests to idle workers. Returns whether more may be waiting.
    bool pass_requests() {
        for (int moved = 0; moved < burst; ++moved) {
            if (!held_) {
                if ((idle_.empty() && !voting()) || !frontend_.receive(request_, milliseconds{0})) {
                    return false;
                }
                counted_.received(request_);
                if (request_.size() < 2) {
                    counted_.counts.dropped_malformed.add();
                    continue;
                }
                if (!admit(gate_)) {
                    continue;  // the passive broker of a pair: the client retries elsewhere
                }
                held_ = true;
            }
            if (idle_.empty()) {
                return false;  // a failover admitted it before any worker was ready: held
            }
            const worker next = idle_.front();
            idle_.erase(idle_.begin());
            workers_ready_.set(idle_.size());
            if (send_to(next, request_)) {  // else that worker is gone: the next one takes it
                held_ = false;
                counted_.requests.add();
            }
        }
        return !idle_.empty() || voting();
    }

    // Sends `body` (an envelope and a request, or a command) to `w`, behind the empty delimiter
    // a REQ expects. Returns false when `w` is gone or cannot take it.
    bool send_to(const worker& w, const message& body) {
        std::size_t index = 0;
        out_.assign_frame(index++, w.identity);
        if (!w.paranoid) {
            out_.assign_frame(index++, "");
        }
        for (const std::string& frame : body) {
            out_.assign_frame(index++, frame);
        }
        out_.truncate(index);
        if (!backend_.send(out_)) {
            return false;
        }
        counted_.sent(out_);
        return true;
    }

    // Forgets idle Paranoid Pirate workers silent past their liveness, and heartbeats the rest.
    void heartbeat(clock::time_point now) {
        const std::size_t before = idle_.size();
        std::erase_if(idle_, [&](const worker& w) { return w.paranoid && w.expiry < now; });
        if (idle_.size() != before) {
            workers_expired_.add(before - idle_.size());
            spdlog::debug("pirate queue: {} worker(s) silent for {} heartbeats, forgotten",
                          before - idle_.size(), cfg_.heartbeat_liveness);
        }
        const message beat{std::string(1, heartbeat_command)};
        std::erase_if(idle_, [&](const worker& w) {
            if (!w.paranoid) {
                return false;
            }
            heartbeats_sent_.add();
            return !send_to(w, beat);
        });
        workers_ready_.set(idle_.size());
    }

    // In a pair, a broker not serving clients reads their requests anyway: they may fail it over.
    bool voting() const { return gate_ != nullptr && !gate_->active(); }

    pirate_config cfg_;
    zpat::router frontend_;
    zpat::router backend_;
    client_gate* gate_;
    std::vector<worker> idle_;  // least recently used first
    queue_counters counted_;
    counter workers_ready_;
    counter workers_expired_;
    counter heartbeats_sent_;
    message in_;
    message reply_;
    message request_;
    message out_;
    bool held_ = false;  // request_ waits for a worker
};

}  // namespace

std::unique_ptr<device> make_pirate_queue(const pirate_config& cfg, const device_settings& shared) {
    return std::make_unique<pirate_queue>(cfg, shared);
}

}  // namespace zpat::broker::detail
