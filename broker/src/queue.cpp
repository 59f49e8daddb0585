// The ZeroMQ Guide's request-reply queue (rrbroker, msgqueue): a router for clients, a dealer for
// workers, and every message passed on with its envelope, so that a REQ client's request reaches
// a REP worker and the reply finds its way back by the envelope alone. The dealer hands requests
// to the workers in turn. With no worker to take one, a request is held and the frontend is not
// read meanwhile: clients wait, nothing is lost. A reply whose client has gone is dropped and
// counted.

#include "queue_device.hpp"
#include "zpat/dealer.hpp"

namespace zpat::broker::detail {
namespace {

class queue final : public device {
  public:
    queue(const queue_config& cfg, const device_settings& shared)
        : frontend_(
              open_queue_side<zpat::router>("queue", cfg.frontend, cfg.high_water_mark, shared)),
          backend_(
              open_queue_side<zpat::dealer>("queue", cfg.backend, cfg.high_water_mark, shared)),
          gate_(shared.gate) {}

    void run(const stop_token& stop) override {
        readiness ready(stop);
        bool requests = false;
        bool replies = false;
        ready.watch(frontend_, requests);
        ready.watch(backend_, replies);
        while (!stop.requested()) {
            if (!requests && !replies) {
                // A held request is tried again soon: a worker may have connected.
                ready.wait(held_ ? milliseconds{10} : tick);
            }
            replies = pass_replies();
            requests = pass_requests();
            counted_.note_oversized(frontend_.oversized_dropped() + backend_.oversized_dropped());
        }
        pass_replies();  // replies that workers already sent still reach their clients
    }

    void report(stats& into) const override {
        into.queue = counted_.snapshot(frontend_.connections(), backend_.connections());
    }
    void list_connections(std::vector<device_connection>& into) const override {
        add_connections(into, "queue", "frontend", frontend_.open_connections());
        add_connections(into, "queue", "backend", backend_.open_connections());
    }
    std::vector<std::string> frontend() const override { return frontend_.endpoints(); }
    std::vector<std::string> backend() const override { return backend_.endpoints(); }

  private:
    // Moves up to a burst of requests on to the workers. Returns whether more may be waiting.
    bool pass_requests() {
        for (int moved = 0; moved < burst; ++moved) {
            if (!held_) {
                if (!frontend_.receive(request_, milliseconds{0})) {
                    return false;
                }
                counted_.received(request_);
                if (!admit(gate_)) {
                    continue;  // the passive broker of a pair: the client retries elsewhere
                }
                held_ = true;
            }
            if (!backend_.send(request_)) {
                return false;  // no worker has room: held until one has
            }
            held_ = false;
            counted_.sent(request_);
            counted_.requests.add();
        }
        return true;
    }

    // Moves up to a burst of replies back to their clients. Returns whether more may be waiting.
    bool pass_replies() {
        for (int moved = 0; moved < burst; ++moved) {
            if (!backend_.receive(reply_, milliseconds{0})) {
                return false;
            }
            counted_.received(reply_);
            if (reply_.size() < 2) {
                counted_.counts.dropped_malformed.add();  // no envelope to route it by
                continue;
            }
            counted_.route(frontend_, reply_);
        }
        return true;
    }

    zpat::router frontend_;
    zpat::dealer backend_;
    client_gate* gate_;
    queue_counters counted_;
    message request_;
    message reply_;
    bool held_ = false;  // request_ waits for a worker
};

}  // namespace

std::unique_ptr<device> make_queue(const queue_config& cfg, const device_settings& shared) {
    return std::make_unique<queue>(cfg, shared);
}

}  // namespace zpat::broker::detail
