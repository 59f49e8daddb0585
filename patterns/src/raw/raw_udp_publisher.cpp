// Publisher over raw UDP: subscribers register their prefixes and refresh them; one that has not
// been heard from for a while is forgotten. Each subscriber gets its own sequence numbers, so it
// can count what the network lost. A subscribe or goodbye counts only from an address that has
// proven it receives there, by echoing a cookie (udp_cookie.hpp); anything else is answered
// with a cookie, no larger than what came, so a forged source address gains nothing.

#include <algorithm>
#include <map>
#include <mutex>

#include "core/log_line.hpp"
#include "prefix_set.hpp"
#include "raw_cells.hpp"
#include "udp.hpp"
#include "udp_cookie.hpp"
#include "zpat/core/error.hpp"

namespace zpat::detail {
namespace {

using clock_type = std::chrono::steady_clock;

class raw_udp_publisher final : public publisher_impl {
  public:
    raw_udp_publisher(const std::vector<endpoint>& endpoints, const options& opts)
        : opts_(opts), channel_(endpoints, opts) {
        if (!channel_.bound()) {
            throw endpoint_error(
                "a raw+udp:// publisher binds ('@'): subscribers register with it");
        }
        endpoints_.push_back(channel_.resolved());
    }

    bool send(const message& msg) override {
        check_sendable(msg, opts_);
        // Reading registrations costs a system call; doing it on every send would double the
        // calls per message, so it is done at most every 20 ms (the socket buffer holds them).
        if (const auto now = clock_type::now(); now - last_housekeeping_ >= housekeeping_interval) {
            last_housekeeping_ = now;
            take_registrations(milliseconds{0});
            forget_silent();
        }
        udp::encode({wire::role::publisher, udp::kind::publication, 0, msg, {}}, out_);
        for (auto& [address, sub] : subscribers_) {
            if (sub.prefixes.matches(msg[0])) {
                udp::set_id(out_, ++sub.sequence);  // each subscriber counts its own
                channel_.send(out_, &address);
            }
        }
        return true;
    }

    bool wait_for_subscriptions(std::size_t count, milliseconds timeout) override {
        const auto deadline = clock_type::now() + timeout;
        while (seen_ < count) {
            milliseconds left = forever;
            if (timeout != forever) {
                left = std::chrono::duration_cast<milliseconds>(deadline - clock_type::now());
                if (left.count() <= 0) {
                    return false;
                }
            }
            take_registrations(left);
        }
        return true;
    }

    std::size_t subscriptions_seen() const noexcept override { return seen_; }
    const std::vector<std::string>& endpoints() const override { return endpoints_; }
    connection_counts connections() const override {
        std::lock_guard lock(counts_mutex_);
        return counts_;
    }

  private:
    // How long a subscriber that stopped refreshing (every second) is still sent to.
    static constexpr auto silence_limit = std::chrono::seconds(5);
    static constexpr auto housekeeping_interval = std::chrono::milliseconds(20);

    struct subscriber_state {
        prefix_set prefixes;
        clock_type::time_point last_heard;
        std::uint64_t sequence = 0;
    };

    // Reads registrations, waiting up to `timeout` for the first.
    void take_registrations(milliseconds timeout) {
        udp::channel::address from;
        while (channel_.receive(in_, from, timeout)) {
            timeout = milliseconds{0};
            auto d = udp::decode(in_, wire::role::subscriber, opts_.max_message_size,
                                 opts_.max_message_frames);
            if (!d || (d->what != udp::kind::subscribe && d->what != udp::kind::goodbye) ||
                !proven(from, d->cookie)) {
                continue;
            }
            if (d->what == udp::kind::goodbye) {
                forget(from);
            } else if (const char* why = refusal(from, d->body)) {
                forget(from);
                count_over_limit(from, why);
            } else {
                take(from, d->body);
            }
        }
    }

    // Whether `from` has echoed a cookie of ours. If not, it gets one (16 bytes, never more
    // than the datagram it sent), and so does one whose cookie is about to expire.
    bool proven(const udp::channel::address& from, std::optional<std::uint64_t> cookie) {
        const auto verdict =
            cookie ? check_.check(from, *cookie) : udp::address_check::verdict::bad;
        if (verdict != udp::address_check::verdict::good) {
            udp::encode_cookie(wire::role::publisher, check_.cookie_for(from), cookie_out_);
            channel_.send(cookie_out_, &from);
        }
        if (verdict == udp::address_check::verdict::bad && cookie) {
            std::lock_guard lock(counts_mutex_);
            ++counts_.refused;  // a cookie we did not make for that address, or a stale one
        }
        return verdict != udp::address_check::verdict::bad;
    }

    // Why `from` may not hold `prefixes`: a limit it would break, or nullptr.
    const char* refusal(const udp::channel::address& from, const message& prefixes) const {
        if (opts_.max_subscriptions != 0 && prefixes.size() > opts_.max_subscriptions) {
            return "a subscriber past options::max_subscriptions";
        }
        if (opts_.max_subscription_prefix != 0 &&
            std::any_of(prefixes.begin(), prefixes.end(), [&](const std::string& p) {
                return p.size() > opts_.max_subscription_prefix;
            })) {
            return "a subscription prefix longer than options::max_subscription_prefix";
        }
        if (subscribers_.contains(from)) {
            return nullptr;
        }
        if (opts_.max_subscribers != 0 && subscribers_.size() >= opts_.max_subscribers) {
            return "a subscriber past options::max_subscribers";
        }
        if (opts_.max_subscribers_per_host != 0) {
            const auto held = hosts_.find(udp::channel::host(from));
            if (held != hosts_.end() && held->second >= opts_.max_subscribers_per_host) {
                return "a subscriber past options::max_subscribers_per_host";
            }
        }
        return nullptr;
    }

    void take(const udp::channel::address& from, const message& prefixes) {
        auto [entry, added] = subscribers_.try_emplace(from);
        subscriber_state& sub = entry->second;
        if (added) {
            ++hosts_[udp::channel::host(from)];
            std::lock_guard lock(counts_mutex_);
            ++counts_.opened;
        }
        for (const std::string& prefix : prefixes) {
            if (!sub.prefixes.contains(prefix)) {
                ++seen_;  // a subscription this publisher did not have
            }
        }
        sub.prefixes.assign(prefixes);
        sub.last_heard = clock_type::now();
    }

    void forget(const udp::channel::address& from) {
        if (subscribers_.erase(from) != 0) {
            forgotten(from);
        }
    }

    void forget_silent() {
        const auto now = clock_type::now();
        for (auto it = subscribers_.begin(); it != subscribers_.end();) {
            if (now - it->second.last_heard > silence_limit) {
                forgotten(it->first);
                it = subscribers_.erase(it);
            } else {
                ++it;
            }
        }
    }

    // Books a subscriber gone from subscribers_.
    void forgotten(const udp::channel::address& from) {
        const auto host = hosts_.find(udp::channel::host(from));
        if (host != hosts_.end() && --host->second == 0) {
            hosts_.erase(host);
        }
        std::lock_guard lock(counts_mutex_);
        ++counts_.closed;
    }

    // Counts a refusal, and logs it at most once a second with how many were not logged.
    void count_over_limit(const udp::channel::address& from, const char* why) {
        {
            std::lock_guard lock(counts_mutex_);
            ++counts_.over_limits;
        }
        refusals_.say("publisher", "subscriber " + udp::channel::text(from) + " refused: " + why);
    }

    options opts_;
    udp::channel channel_;
    std::vector<std::string> endpoints_;
    std::map<udp::channel::address, subscriber_state> subscribers_;
    std::map<std::string, std::size_t> hosts_;  // subscribers per host (IP address)
    udp::address_check check_;
    std::size_t seen_ = 0;
    clock_type::time_point last_housekeeping_{};
    throttled_log refusals_;
    mutable std::mutex counts_mutex_;
    connection_counts counts_;
    std::string out_;
    std::string in_;
    std::string cookie_out_;
};

}  // namespace

std::unique_ptr<publisher_impl> make_raw_udp_publisher(const std::vector<endpoint>& endpoints,
                                                       const options& opts) {
    return std::make_unique<raw_udp_publisher>(endpoints, opts);
}

}  // namespace zpat::detail
