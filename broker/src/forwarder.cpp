// The pub-sub forwarder. Publishers reach the frontend, subscribers the backend.
//
// Each side is the richer role where its backend offers it, and the plain one otherwise:
// - frontend: an xsubscriber passes subscriptions on to the publishers, so they filter before
//   the network; a (raw+udp) subscriber instead subscribes to everything.
// - backend: an xpublisher hands the forwarder every subscribe and unsubscribe (counted per
//   prefix, answered from the last-value cache, passed upstream); a (raw+udp) publisher keeps
//   its subscribers' subscriptions to itself and filters for them.
// Messages go through a zpat::relay: between zpat's own ZeroMQ sides (tcp:// binds without
// CURVE, io_model::caller) and between raw+tcp sides they pass through as the wire encoded them;
// between libzmq's sockets their frames move uncopied.

#include <spdlog/spdlog.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "device.hpp"
#include "zpat/core/endpoint.hpp"
#include "zpat/core/error.hpp"
#include "zpat/pubsub.hpp"
#include "zpat/topic_trie.hpp"

namespace zpat::broker::detail {
namespace {

// Topics the last-value cache keeps at most; past this, new topics are not cached.
constexpr std::size_t max_cached_topics = 65536;

options side_options(const forwarder_config& cfg, const device_settings& shared,
                     std::string_view endpoints, io_model io) {
    return shared.secured({.send_high_water_mark = cfg.high_water_mark,
                           .receive_high_water_mark = cfg.high_water_mark,
                           .max_message_size = shared.bytes,
                           .max_message_frames = shared.frames,
                           .send_timeout = tick,
                           .max_subscriptions = cfg.max_subscriptions,
                           .max_subscription_prefix = cfg.max_subscription_prefix,
                           .block_when_full = cfg.lossless,
                           .io = io},
                          endpoints);
}

// zpat's own ZeroMQ XSUB and XPUB where both sides take them (tcp:// binds without CURVE): the
// messages then pass through as the wire encoded them, read and written on the forwarder's
// thread, with no libzmq I/O thread between (docs/performance.md). Else libzmq's, or raw's.
io_model sides_io(const forwarder_config& cfg, const device_settings& shared) {
    const auto takes = [&](zpat::role_kind role, const std::string& endpoints) {
        try {
            zpat::check_offered(role, endpoints,
                                side_options(cfg, shared, endpoints, io_model::caller));
            return true;
        } catch (const error&) {
            return false;
        }
    };
    const std::string front = bind_by_default(cfg.frontend);
    const std::string back = bind_by_default(cfg.backend);
    return takes(zpat::role_kind::xsubscriber, front) && takes(zpat::role_kind::xpublisher, back)
               ? io_model::caller
               : io_model::io_thread;
}

// Opens the richer role on `endpoints` when their backend offers it.
template <class Role>
std::optional<Role> open_if_offered(const std::string& endpoints, const options& opts) {
    try {
        return Role(endpoints, opts);
    } catch (const unsupported_error&) {
        return std::nullopt;
    }
}

// One side of the forwarder: the richer role or, where the backend has none, the plain one.
template <class Rich, class Plain>
struct side {
    std::optional<Rich> rich;
    std::optional<Plain> plain;

    template <class... Args>
    side(const std::string& endpoints, const options& opts, Args&&... plain_args)
        : rich(open_if_offered<Rich>(endpoints, opts)) {
        if (!rich) {
            plain.emplace(endpoints, std::forward<Args>(plain_args)..., opts);
        }
    }
    const std::vector<std::string>& endpoints() const {
        return rich ? rich->endpoints() : plain->endpoints();
    }
    connection_counts connections() const {
        return rich ? rich->connections() : plain->connections();
    }
    std::vector<connection_info> open_connections() const {
        return rich ? rich->open_connections() : plain->open_connections();
    }
};

using upstream = side<xsubscriber, subscriber>;
using downstream = side<xpublisher, publisher>;

zpat::relay::source source_of(upstream& side) {
    if (side.rich) {
        return *side.rich;
    }
    return *side.plain;
}

zpat::relay::destination destination_of(downstream& side) {
    if (side.rich) {
        return *side.rich;
    }
    return *side.plain;
}

class forwarder final : public device {
  public:
    forwarder(const forwarder_config& cfg, const device_settings& shared)
        : cfg_(cfg),
          memory_(shared.memory),
          io_(sides_io(cfg, shared)),
          frontend_(bind_by_default(cfg.frontend), side_options(cfg, shared, cfg.frontend, io_),
                    std::initializer_list<std::string_view>{""}),
          backend_(bind_by_default(cfg.backend), side_options(cfg, shared, cfg.backend, io_)),
          link_(source_of(frontend_), destination_of(backend_)) {
        if (cfg.last_value_cache && !backend_.rich) {
            throw unsupported_error(
                "the forwarder's last-value cache needs a backend (subscriber side) that hands "
                "over subscriptions, ZeroMQ or raw+tcp://: it answers them, and a raw+udp:// "
                "publisher keeps them to itself");
        }
        // Upstream everything, when no subscriptions come from a raw+udp backend, and for the
        // cache, which keeps the latest message of every topic published, subscribed or not
        // (as the Guide's lvcache does).
        if (frontend_.rich && (!backend_.rich || cfg.last_value_cache)) {
            frontend_.rich->subscribe("");
        }
        watch_ = [this](std::size_t index, std::string_view frame, bool last) {
            see(index, frame, last);
        };
    }

    void run(const stop_token& stop) override {
        readiness ready(stop);
        bool messages = false;
        bool subscriptions = false;
        watch_frontend(ready, messages);
        if (backend_.rich) {
            ready.watch(*backend_.rich, subscriptions);
        }
        auto next_publish = std::chrono::steady_clock::now();
        while (!stop.requested()) {
            if (!messages && !subscriptions) {
                ready.wait(tick);
            }
            if (subscriptions) {
                subscriptions = false;
                forward_subscriptions();
            }
            // Topics are counted per prefix held; the cache keeps whole messages.
            const bool watching = cfg_.last_value_cache || !prefixes_.empty();
            messages =
                !relay_burst(link_, counts_, stop, watching ? watch_ : frame_watch{},
                             cfg_.last_value_cache ? watched_frames::all : watched_frames::first);
            const auto now = std::chrono::steady_clock::now();
            if (now >= next_publish) {
                publish_tables();
                next_publish = now + tick;
            }
        }
        publish_tables();
    }

    void report(stats& into) const override {
        traffic snapshot = counts_.snapshot();
        // raw+tcp counts per subscriber; libzmq drops without telling.
        snapshot.dropped_full =
            backend_.rich ? backend_.rich->dropped() : backend_.plain->dropped();
        snapshot.frontend_connections = frontend_.connections();
        snapshot.backend_connections = backend_.connections();
        into.forwarder =
            forwarder_stats{snapshot,        topics_.read(),
                            cached_.get(),   cached_bytes_.get(),
                            uncached_.get(), frontend_.rich ? frontend_.rich->dropped() : 0};
    }
    void list_connections(std::vector<device_connection>& into) const override {
        add_connections(into, "forwarder", "frontend", frontend_.open_connections());
        add_connections(into, "forwarder", "backend", backend_.open_connections());
    }
    std::vector<std::string> frontend() const override { return frontend_.endpoints(); }
    std::vector<std::string> backend() const override { return backend_.endpoints(); }

  private:
    struct prefix_counts {
        std::uint64_t subscriptions = 0;
        std::uint64_t messages = 0;
    };
    // Heterogeneous lookup by string_view (C++20): std::hash<std::string_view> hashes a
    // std::string the same way.
    struct topic_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };
    using cache_map = std::unordered_map<std::string, message, topic_hash, std::equal_to<>>;

    void watch_frontend(readiness& ready, bool& flag) {
        if (frontend_.rich) {
            ready.watch(*frontend_.rich, flag);
        } else {
            ready.watch(*frontend_.plain, flag);
        }
    }

    // Each frame of a message on its way: frame 0 is the topic, counted per prefix and keyed
    // in the cache; every frame of a cached topic is copied into its slot.
    void see(std::size_t index, std::string_view frame, bool last) {
        if (index == 0) {
            count_topic(frame);
            cached_slot_ = cache_slot(frame);
        }
        if (cached_slot_ != cache_.end()) {
            cached_slot_->second.assign_frame(index, frame);
            if (last) {
                cached_slot_->second.truncate(index + 1);
                settle_cached();
            }
        }
    }

    // Walks the prefixes held through the trie: a cost in the topic's length, however many
    // prefixes subscribers hold. Each prefix is in the trie once, with its own counters.
    void count_topic(std::string_view topic) {
        matcher_.for_each_prefix(topic, [](prefix_counts* counts) { ++counts->messages; });
    }

    // The cache's entry for `topic`, made if there is room for the topic, or cache_.end().
    cache_map::iterator cache_slot(std::string_view topic) {
        if (!cfg_.last_value_cache) {
            return cache_.end();
        }
        auto it = cache_.find(topic);  // no string built per message: a transparent lookup
        if (it == cache_.end()) {
            if (cache_.size() >= max_cached_topics ||
                held_ + topic.size() > cfg_.max_cached_bytes || out_of_memory()) {
                uncached_.add();
                return cache_.end();
            }
            it = cache_.emplace(std::string(topic), message{}).first;
            held_ += topic.size();
            cached_.add();
        }
        slot_held_ = it->second.byte_size();
        return it;
    }

    // Books the message just copied into cached_slot_. One that takes the cache past its budget,
    // or grows it while the broker's memory budget is reached, is not kept, and neither is its
    // topic: the cache holds at most max_cached_bytes between messages (and one message more
    // while it is copied in).
    void settle_cached() {
        const std::size_t now = cached_slot_->second.byte_size();
        const bool grew = now > slot_held_;
        held_ = held_ - slot_held_ + now;
        if (held_ > cfg_.max_cached_bytes || (grew && out_of_memory())) {
            held_ -= now + cached_slot_->first.size();
            cache_.erase(cached_slot_);
            cached_slot_ = cache_.end();
            cached_.set(cache_.size());
            uncached_.add();
        }
        cached_bytes_.set(held_);
    }

    // Passes subscriptions from subscribers up to the publishers, counting them, and answers a
    // new one from the last-value cache.
    void forward_subscriptions() {
        message sub;
        while (backend_.rich->receive_subscription(sub, milliseconds{0})) {
            const bool is_subscription =
                sub.size() == 1 && !sub[0].empty() && (sub[0][0] == 0 || sub[0][0] == 1);
            if (frontend_.rich) {
                pass_upstream(sub, is_subscription);
            }
            if (is_subscription) {
                const bool subscribe = sub[0][0] == 1;
                const std::string prefix = sub[0].substr(1);
                note_subscription(prefix, subscribe);
                if (subscribe) {
                    replay_cache(prefix);
                }
            }
        }
    }

    // Anything else a subscriber says goes up as it is, where the publishers' side takes it
    // (a raw+tcp xsubscriber sends subscriptions only: there it is dropped).
    void pass_upstream(const message& sub, bool is_subscription) {
        if (is_subscription) {
            frontend_.rich->send(sub);
            return;
        }
        try {
            frontend_.rich->send(sub);
        } catch (const unsupported_error& e) {
            spdlog::debug("forwarder: a subscriber's message not passed upstream: {}", e.what());
        }
    }

    void note_subscription(const std::string& prefix, bool subscribe) {
        auto it = prefixes_.find(prefix);
        if (subscribe) {
            if (it == prefixes_.end()) {
                it = prefixes_.emplace(prefix, prefix_counts{}).first;
                matcher_.add(prefix, &it->second);
            }
            ++it->second.subscriptions;
            spdlog::debug("forwarder: subscription to '{}' ({} now)", prefix,
                          it->second.subscriptions);
        } else if (it != prefixes_.end() && --it->second.subscriptions == 0) {
            // Nobody holds it any more: the table and the trie give back what it took.
            matcher_.remove(prefix, &it->second);
            prefixes_.erase(it);
        }
    }

    bool out_of_memory() const { return memory_ != nullptr && memory_->exhausted(); }

    void replay_cache(const std::string& prefix) {
        for (const auto& [topic, last] : cache_) {
            if (topic.starts_with(prefix) && !last.empty() && backend_.rich->send(last)) {
                counts_.messages_out.add();
                counts_.bytes_out.add(last.byte_size());
            }
        }
    }

    void publish_tables() {
        std::vector<topic_stats> table;
        for (const auto& [prefix, counts] : prefixes_) {
            table.push_back({prefix, counts.subscriptions, counts.messages});
        }
        topics_.publish(std::move(table));
    }

    forwarder_config cfg_;
    memory_budget* memory_;  // the broker's: no new cache entry while it is exhausted
    io_model io_;            // both sides'
    upstream frontend_;
    downstream backend_;
    zpat::relay link_;
    frame_watch watch_;
    traffic_counters counts_;
    counter cached_;        // topics in the cache
    counter cached_bytes_;  // held_, for the stats
    counter uncached_;
    std::map<std::string, prefix_counts> prefixes_;  // nodes stay put: the trie points at them
    zpat::topic_trie<prefix_counts*> matcher_;
    cache_map cache_;
    cache_map::iterator cached_slot_ = cache_.end();  // the topic of the message on its way
    std::size_t held_ = 0;                            // bytes of topics and messages in the cache
    std::size_t slot_held_ = 0;  // what cached_slot_'s message held before this one
    published<std::vector<topic_stats>> topics_;
};

}  // namespace

std::unique_ptr<device> make_forwarder(const forwarder_config& cfg, const device_settings& shared) {
    return std::make_unique<forwarder>(cfg, shared);
}

}  // namespace zpat::broker::detail
