// The pipeline streamer: what producers push to the frontend is pushed on, round-robin, to the
// workers that pull from the backend. A hop in a pipeline, written on the public roles, so either
// side may be ZeroMQ or raw+tcp; between two ZeroMQ sides the relay moves frames uncopied. With no
// worker connected the backend holds messages up to its high-water mark and the streamer then stops
// taking more: producers wait, nothing is lost.

#include "device.hpp"
#include "zpat/pipeline.hpp"

namespace zpat::broker::detail {
namespace {

class streamer final : public device {
  public:
    streamer(const streamer_config& cfg, const device_settings& shared)
        : frontend_(bind_by_default(cfg.frontend), side_options(cfg, shared, cfg.frontend)),
          backend_(bind_by_default(cfg.backend), side_options(cfg, shared, cfg.backend)) {}

    void run(const stop_token& stop) override {
        zpat::relay link(frontend_, backend_);
        readiness ready(stop);
        bool waiting = false;
        ready.watch(frontend_, waiting);
        while (!stop.requested()) {
            if (!waiting) {
                ready.wait(tick);
            }
            waiting = !relay_burst(link, counts_, stop);
            counts_.dropped_oversized.set(frontend_.oversized_dropped());
        }
    }

    void report(stats& into) const override {
        traffic snapshot = counts_.snapshot();
        snapshot.frontend_connections = frontend_.connections();
        snapshot.backend_connections = backend_.connections();
        into.streamer = snapshot;
    }
    void list_connections(std::vector<device_connection>& into) const override {
        add_connections(into, "streamer", "frontend", frontend_.open_connections());
        add_connections(into, "streamer", "backend", backend_.open_connections());
    }
    std::vector<std::string> frontend() const override { return frontend_.endpoints(); }
    std::vector<std::string> backend() const override { return backend_.endpoints(); }

  private:
    static options side_options(const streamer_config& cfg, const device_settings& shared,
                                std::string_view endpoints) {
        return shared.secured({.send_high_water_mark = cfg.high_water_mark,
                               .receive_high_water_mark = cfg.high_water_mark,
                               .max_message_size = shared.bytes,
                               .max_message_frames = shared.frames,
                               .send_timeout = tick},
                              endpoints);
    }

    puller frontend_;
    pusher backend_;
    traffic_counters counts_;
};

}  // namespace

std::unique_ptr<device> make_streamer(const streamer_config& cfg, const device_settings& shared) {
    return std::make_unique<streamer>(cfg, shared);
}

}  // namespace zpat::broker::detail
