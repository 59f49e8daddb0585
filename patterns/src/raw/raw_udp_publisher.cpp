// Publisher over raw UDP: subscribers register their prefixes and refresh them; one that has not
// been heard from for a while is forgotten. Each subscriber gets its own sequence numbers, so it
// can count what the network lost.

#include <algorithm>
#include <map>

#include "prefix_set.hpp"
#include "raw_cells.hpp"
#include "udp.hpp"
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
        udp::encode({wire::role::publisher, udp::kind::publication, 0, msg}, out_);
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
            if (!d) {
                continue;
            }
            if (d->what == udp::kind::goodbye) {
                subscribers_.erase(from);
                continue;
            }
            if (d->what != udp::kind::subscribe) {
                continue;
            }
            subscriber_state& sub = subscribers_[from];
            for (const std::string& prefix : d->body) {
                if (!sub.prefixes.contains(prefix)) {
                    ++seen_;  // a subscription this publisher did not have
                }
            }
            sub.prefixes.assign(d->body);
            sub.last_heard = clock_type::now();
        }
    }

    void forget_silent() {
        const auto now = clock_type::now();
        std::erase_if(subscribers_, [&](const auto& entry) {
            return now - entry.second.last_heard > silence_limit;
        });
    }

    options opts_;
    udp::channel channel_;
    std::vector<std::string> endpoints_;
    std::map<udp::channel::address, subscriber_state> subscribers_;
    std::size_t seen_ = 0;
    clock_type::time_point last_housekeeping_{};
    std::string out_;
    std::string in_;
};

}  // namespace

std::unique_ptr<publisher_impl> make_raw_udp_publisher(const std::vector<endpoint>& endpoints,
                                                       const options& opts) {
    return std::make_unique<raw_udp_publisher>(endpoints, opts);
}

}  // namespace zpat::detail
