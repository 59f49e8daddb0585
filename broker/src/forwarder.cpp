// The pub-sub forwarder. Publishers reach the frontend, subscribers the backend.
//
// Both sides on ZeroMQ: an XSUB/XPUB pair. Subscriptions go upstream (XPUB_VERBOSER, so every
// subscribe and unsubscribe is seen and counted), and messages go downstream part by part with
// zmq_msg_t moved through untouched, in bursts per poll. An optional last-value cache answers a
// new subscription with the latest message of every topic it matches.
//
// Either side on raw+tcp: a zpat subscriber (subscribed to everything) feeds a zpat publisher,
// which filters per subscriber itself. Subscriptions then stop at the broker.

#include <spdlog/spdlog.h>

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "device.hpp"
#include "seam/registry.hpp"
#include "zmq_socket.hpp"
#include "zpat/core/error.hpp"
#include "zpat/pubsub.hpp"

namespace zpat::broker::detail {
namespace {

using zpat::detail::zmq_socket;

// Messages moved per wake-up before the device looks at subscriptions and the stop token again.
constexpr int burst = 1000;
// Topics the last-value cache keeps at most; past this, new topics are not cached.
constexpr std::size_t max_cached_topics = 65536;

options side_options(const forwarder_config& cfg, std::size_t max_size) {
    return options{.send_high_water_mark = cfg.high_water_mark,
                   .receive_high_water_mark = cfg.high_water_mark,
                   .max_message_size = max_size,
                   .send_timeout = tick,
                   .block_when_full = cfg.lossless};
}

class zmq_forwarder final : public device {
  public:
    zmq_forwarder(const forwarder_config& cfg, std::size_t max_size)
        : cfg_(cfg),
          frontend_(zmq::socket_type::xsub,
                    zpat::detail::resolve(bind_by_default(cfg.frontend), link::bind).endpoints,
                    side_options(cfg, max_size)),
          backend_(zmq::socket_type::xpub,
                   zpat::detail::resolve(bind_by_default(cfg.backend), link::bind).endpoints,
                   side_options(cfg, max_size)) {
        backend_.socket().set(zmq::sockopt::xpub_verboser, 1);
        // Lossless: the XPUB refuses instead of dropping, and the forwarder waits for room.
        backend_.socket().set(zmq::sockopt::xpub_nodrop, cfg.lossless ? 1 : 0);
        zmq_msg_init(&part_);
    }
    ~zmq_forwarder() override { zmq_msg_close(&part_); }

    void run(const stop_token& stop) override {
        std::vector<zmq::pollitem_t> items{{frontend_.socket().handle(), 0, ZMQ_POLLIN, 0},
                                           {backend_.socket().handle(), 0, ZMQ_POLLIN, 0},
                                           {nullptr, stop.fd(), ZMQ_POLLIN, 0}};
        auto next_publish = std::chrono::steady_clock::now();
        while (!stop.requested()) {
            if (zpat::detail::poll_interrupted(items, tick)) {
                continue;
            }
            if ((items[1].revents & ZMQ_POLLIN) != 0) {
                forward_subscriptions();
            }
            if ((items[0].revents & ZMQ_POLLIN) != 0) {
                for (int i = 0; i < burst && forward_message(stop); ++i) {
                }
            }
            const auto now = std::chrono::steady_clock::now();
            if (now >= next_publish) {
                publish_tables();
                next_publish = now + tick;
            }
        }
        publish_tables();
    }

    void report(stats& into) const override {
        into.forwarder = forwarder_stats{counts_.snapshot(), topics_.read(), cached_.get()};
    }
    std::vector<std::string> frontend() const override { return frontend_.endpoints(); }
    std::vector<std::string> backend() const override { return backend_.endpoints(); }

  private:
    struct prefix_counts {
        std::uint64_t subscriptions = 0;
        std::uint64_t messages = 0;
    };

    // Receives one part into part_ without waiting. Returns its size, or -1 when none is there.
    int receive_part(zmq::socket_t& from) {
        return zmq_msg_recv(&part_, from.handle(), ZMQ_DONTWAIT);
    }
    bool more() { return zmq_msg_more(&part_) != 0; }

    // Sends part_ on the backend. In lossless mode waits for room, a tick at a time, while the
    // device is not stopping; otherwise the XPUB drops for full subscribers itself.
    bool send_part(int flags, const stop_token& stop) {
        while (zmq_msg_send(&part_, backend_.socket().handle(), flags) < 0) {
            if ((zmq_errno() != EAGAIN && zmq_errno() != EINTR) || stop.requested()) {
                return false;
            }
        }
        return true;
    }

    // Moves one whole message from the frontend to the backend. Returns false when none waited.
    bool forward_message(const stop_token& stop) {
        int size = receive_part(frontend_.socket());
        if (size < 0) {
            return false;
        }
        counts_.messages_in.add();
        const std::string_view topic(static_cast<const char*>(zmq_msg_data(&part_)),
                                     zmq_msg_size(&part_));
        count_topic(topic);
        message* cached = cache_slot(topic);
        std::uint64_t bytes = 0;
        bool sent = true;
        for (std::size_t frame = 0;; ++frame) {
            bytes += static_cast<std::uint64_t>(size);
            if (cached != nullptr) {
                cached->assign_frame(
                    frame, {static_cast<const char*>(zmq_msg_data(&part_)), zmq_msg_size(&part_)});
            }
            const bool last = !more();
            if (cached != nullptr && last) {
                cached->truncate(frame + 1);
            }
            sent = sent && send_part(last ? 0 : ZMQ_SNDMORE, stop);
            if (last) {
                break;
            }
            size = receive_part(frontend_.socket());
            if (size < 0) {
                break;  // parts of one message arrive together; this is only a safety net
            }
        }
        counts_.bytes_in.add(bytes);
        if (sent) {
            counts_.messages_out.add();
            counts_.bytes_out.add(bytes);
        } else {
            counts_.dropped_full.add();
        }
        return true;
    }

    void count_topic(std::string_view topic) {
        for (auto& [prefix, counts] : prefixes_) {
            if (topic.starts_with(prefix)) {
                ++counts.messages;
            }
        }
    }

    message* cache_slot(std::string_view topic) {
        if (!cfg_.last_value_cache) {
            return nullptr;
        }
        auto it = cache_.find(topic);  // no string built per message: a transparent lookup
        if (it == cache_.end()) {
            if (cache_.size() >= max_cached_topics) {
                return nullptr;
            }
            it = cache_.emplace(std::string(topic), message{}).first;
            cached_.add();
        }
        return &it->second;
    }

    // Passes subscriptions from subscribers up to the publishers, counting them, and answers a
    // new one from the last-value cache.
    void forward_subscriptions() {
        message sub;
        while (backend_.receive(sub, milliseconds{0})) {
            if (sub.size() == 1 && !sub[0].empty() && (sub[0][0] == 0 || sub[0][0] == 1)) {
                const bool subscribe = sub[0][0] == 1;
                const std::string prefix = sub[0].substr(1);
                note_subscription(prefix, subscribe);
                frontend_.send(sub);
                if (subscribe) {
                    replay_cache(prefix);
                }
            } else {
                frontend_.send(sub);  // anything else a subscriber says goes upstream as it is
            }
        }
    }

    void note_subscription(const std::string& prefix, bool subscribe) {
        auto it = prefixes_.find(prefix);
        if (subscribe) {
            if (it == prefixes_.end()) {
                it = prefixes_.emplace(prefix, prefix_counts{}).first;
            }
            ++it->second.subscriptions;
            spdlog::debug("forwarder: subscription to '{}' ({} now)", prefix,
                          it->second.subscriptions);
        } else if (it != prefixes_.end() && --it->second.subscriptions == 0) {
            // Nobody holds it any more: every message is matched against the prefixes held,
            // so a prefix that is gone must not cost them anything.
            prefixes_.erase(it);
        }
    }

    void replay_cache(const std::string& prefix) {
        for (const auto& [topic, last] : cache_) {
            if (topic.starts_with(prefix) && !last.empty()) {
                if (backend_.send(last)) {
                    counts_.messages_out.add();
                    counts_.bytes_out.add(last.byte_size());
                }
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
    zmq_socket frontend_;
    zmq_socket backend_;
    zmq_msg_t part_{};
    traffic_counters counts_;
    counter cached_;
    std::map<std::string, prefix_counts> prefixes_;
    // Heterogeneous lookup by string_view (C++20): std::hash<std::string_view> hashes a
    // std::string the same way.
    struct topic_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };
    std::unordered_map<std::string, message, topic_hash, std::equal_to<>> cache_;
    published<std::vector<topic_stats>> topics_;
};

// At least one side on raw+tcp: zpat roles on both sides, the publisher filtering itself.
class role_forwarder final : public device {
  public:
    role_forwarder(const forwarder_config& cfg, std::size_t max_size)
        : frontend_(bind_by_default(cfg.frontend), {""}, side_options(cfg, max_size)),
          backend_(bind_by_default(cfg.backend), side_options(cfg, max_size)) {
        if (cfg.last_value_cache) {
            throw unsupported_error(
                "the forwarder's last-value cache needs ZeroMQ endpoints on both sides: it "
                "answers subscriptions, which stop at the broker when a side is raw+tcp://");
        }
    }

    // A send finds no room only in lossless mode, at a subscriber's high-water mark.
    void run(const stop_token& stop) override {
        relay(frontend_, backend_, counts_, stop, [] {});
    }

    void report(stats& into) const override {
        traffic snapshot = counts_.snapshot();
        snapshot.dropped_full = backend_.dropped();
        into.forwarder = forwarder_stats{snapshot, {}, 0};
    }
    std::vector<std::string> frontend() const override { return frontend_.endpoints(); }
    std::vector<std::string> backend() const override { return backend_.endpoints(); }

  private:
    subscriber frontend_;
    publisher backend_;
    traffic_counters counts_;
};

}  // namespace

std::unique_ptr<device> make_forwarder(const forwarder_config& cfg, std::size_t max_size) {
    const bool zmq_both = backend_name(bind_by_default(cfg.frontend)) == "zeromq" &&
                          backend_name(bind_by_default(cfg.backend)) == "zeromq";
    if (zmq_both) {
        return std::make_unique<zmq_forwarder>(cfg, max_size);
    }
    return std::make_unique<role_forwarder>(cfg, max_size);
}

}  // namespace zpat::broker::detail
