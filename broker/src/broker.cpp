// The embeddable broker: owns the devices, a thread for each, and the stats endpoint.

#include "zpat/broker/broker.hpp"

#include <spdlog/spdlog.h>

#include <mutex>
#include <thread>

#include "binary_star.hpp"
#include "device.hpp"
#include "zpat/core/endpoint.hpp"
#include "zpat/core/error.hpp"
#include "zpat/reqrep.hpp"

namespace zpat::broker {

options secured(const config& cfg, options opts, std::string_view endpoints) {
    const bool zeromq = backend_name(endpoints) == "zeromq";
    opts.curve = zeromq || !cfg.tls ? cfg.curve : std::nullopt;
    opts.tls = zeromq ? std::nullopt : cfg.tls;
    opts.allow_insecure = cfg.allow_insecure;
    return opts;
}

struct broker::impl {
    explicit impl(const config& cfg) : memory(cfg.max_memory) {
        detail::device_settings shared{cfg.max_message_size, cfg.max_message_frames, {}};
        shared.memory = &memory;
        shared.security.curve = cfg.curve;
        shared.security.tls = cfg.tls;
        shared.security.allow_insecure = cfg.allow_insecure;
        if (cfg.pair) {
            // Both forwarders of a pair serve: publishers reach both, a subscriber listens at
            // one (options::failover). A pusher given both brokers would deal its messages
            // between them, so the streamer has no such pair.
            if (cfg.streamer) {
                throw unsupported_error(
                    "the streamer does not run in a Binary Star pair: a pusher given both "
                    "brokers deals its messages between them (the service broker, the queue, "
                    "the pirate queue and the forwarder run in a pair)");
            }
            auto star = std::make_unique<detail::binary_star>(*cfg.pair, shared);
            shared.gate = star.get();
            pair = std::move(star);
        }
        if (cfg.forwarder) {
            forwarder = detail::make_forwarder(*cfg.forwarder, shared);
        }
        if (cfg.streamer) {
            streamer = detail::make_streamer(*cfg.streamer, shared);
        }
        if (cfg.service) {
            service = detail::make_service_broker(*cfg.service, shared);
        }
        if (cfg.queue) {
            queue = detail::make_queue(*cfg.queue, shared);
        }
        if (cfg.pirate) {
            pirate = detail::make_pirate_queue(*cfg.pirate, shared);
        }
        if (!cfg.stats_endpoint.empty()) {
            const std::string at = detail::bind_by_default(cfg.stats_endpoint);
            stats_replier.emplace(at, shared.secured({.linger = milliseconds{0}}, at));
        }
    }

    std::vector<detail::device*> devices() const {
        std::vector<detail::device*> all;
        for (const auto* d : {&pair, &forwarder, &streamer, &service, &queue, &pirate}) {
            if (*d) {
                all.push_back(d->get());
            }
        }
        return all;
    }

    const char* name_of(const detail::device* d) const {
        return d == forwarder.get()  ? "forwarder"
               : d == streamer.get() ? "streamer"
               : d == queue.get()    ? "queue"
               : d == pirate.get()   ? "pirate queue"
               : d == pair.get()     ? "pair"
                                     : "service broker";
    }

    // Runs `d` on this thread until stop; a failure is logged and kept for trouble().
    void run(detail::device* d) {
        try {
            d->run(stop);
        } catch (const std::exception& e) {
            const std::string why = std::string(name_of(d)) + " stopped: " + e.what();
            spdlog::error("broker device {}", why);
            const std::lock_guard lock(threads_mutex);
            failures.push_back(why);
        }
    }

    zpat::broker::stats snapshot() const {
        zpat::broker::stats s;
        for (const detail::device* d : devices()) {
            d->report(s);
        }
        if (memory.limit() != 0) {
            s.memory = memory_stats{memory.in_use(), memory.limit(), memory.refusals()};
        }
        return s;
    }

    std::vector<device_connection> connections() const {
        std::vector<device_connection> all;
        for (const detail::device* d : devices()) {
            d->list_connections(all);
        }
        return all;
    }

    // Answers "json" (the default) or "prometheus" on the stats endpoint.
    message answer_stats(const message& request) const {
        const zpat::broker::stats s = snapshot();
        if (!request.empty() && request[0] == "prometheus") {
            return message{to_prometheus(s)};
        }
        return message{to_json(s)};
    }

    detail::memory_budget memory;          // first: every device holds it
    std::unique_ptr<detail::device> pair;  // before the other devices: they hold its gate
    std::unique_ptr<detail::device> forwarder;
    std::unique_ptr<detail::device> streamer;
    std::unique_ptr<detail::device> service;
    std::unique_ptr<detail::device> queue;
    std::unique_ptr<detail::device> pirate;
    std::optional<replier> stats_replier;
    detail::stop_token stop;
    std::mutex threads_mutex;
    std::vector<std::thread> threads;
    std::vector<std::string> failures;  // devices that ended with an error, and why
    bool started = false;
};

broker::broker(const config& cfg) : impl_(std::make_unique<impl>(cfg)) {}

broker::~broker() {
    stop();
    wait();
}

void broker::start() {
    const std::lock_guard lock(impl_->threads_mutex);
    if (impl_->started) {
        return;
    }
    impl_->started = true;
    for (detail::device* d : impl_->devices()) {
        impl_->threads.emplace_back([d, this] { impl_->run(d); });
    }
    if (impl_->stats_replier) {
        impl_->threads.emplace_back([this] {
            impl_->stats_replier->serve(
                [this](const message& request) { return impl_->answer_stats(request); });
        });
    }
}

void broker::stop() noexcept {
    impl_->stop.request();
    if (impl_->stats_replier) {
        impl_->stats_replier->stop();
    }
}

void broker::wait() {
    std::vector<std::thread> threads;
    {
        const std::lock_guard lock(impl_->threads_mutex);
        threads.swap(impl_->threads);
    }
    for (auto& t : threads) {
        t.join();
    }
}

stats broker::counters() const {
    return impl_->snapshot();
}

std::vector<device_connection> broker::connections() const {
    return impl_->connections();
}

std::string broker::trouble() const {
    if (impl_->stop.requested()) {
        return "stopping";
    }
    const std::lock_guard lock(impl_->threads_mutex);
    if (!impl_->started) {
        return "not started";
    }
    std::string why;
    for (const std::string& failure : impl_->failures) {
        why += (why.empty() ? "" : "; ") + failure;
    }
    return why;
}

namespace {
std::vector<std::string> sides(const std::unique_ptr<detail::device>& d, bool front) {
    if (!d) {
        return {};
    }
    return front ? d->frontend() : d->backend();
}
}  // namespace

std::vector<std::string> broker::forwarder_frontend() const {
    return sides(impl_->forwarder, true);
}
std::vector<std::string> broker::forwarder_backend() const {
    return sides(impl_->forwarder, false);
}
std::vector<std::string> broker::streamer_frontend() const {
    return sides(impl_->streamer, true);
}
std::vector<std::string> broker::streamer_backend() const {
    return sides(impl_->streamer, false);
}
std::vector<std::string> broker::service_endpoint() const {
    return sides(impl_->service, true);
}
std::vector<std::string> broker::queue_frontend() const {
    return sides(impl_->queue, true);
}
std::vector<std::string> broker::queue_backend() const {
    return sides(impl_->queue, false);
}
std::vector<std::string> broker::pirate_frontend() const {
    return sides(impl_->pirate, true);
}
std::vector<std::string> broker::pirate_backend() const {
    return sides(impl_->pirate, false);
}
std::vector<std::string> broker::pair_endpoint() const {
    return sides(impl_->pair, true);
}
std::vector<std::string> broker::stats_endpoint() const {
    return impl_->stats_replier ? impl_->stats_replier->endpoints() : std::vector<std::string>{};
}

}  // namespace zpat::broker
