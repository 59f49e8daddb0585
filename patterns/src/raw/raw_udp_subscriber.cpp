// Subscriber over raw UDP: registers its prefixes with the publisher and refreshes them every
// second; counts the gaps in the publisher's sequence numbers as messages lost. The publisher
// takes a registration only with the cookie it sent to this address (udp_cookie.hpp): the first
// one is answered with a cookie, and the subscriber registers again at once, echoing it.

#include <algorithm>
#include <mutex>

#include "prefix_set.hpp"
#include "raw_cells.hpp"
#include "udp.hpp"
#include "zpat/core/error.hpp"

namespace zpat::detail {
namespace {

using clock_type = std::chrono::steady_clock;
constexpr milliseconds refresh_interval{1000};

class raw_udp_subscriber final : public subscriber_impl {
  public:
    raw_udp_subscriber(const std::vector<endpoint>& endpoints, const options& opts)
        : opts_(opts), channel_(endpoints, opts) {
        if (channel_.bound()) {
            throw endpoint_error(
                "a raw+udp:// subscriber registers with its publisher: connect ('>'), do not bind");
        }
        endpoints_.push_back(channel_.resolved());
        // Cookies are answered on the I/O thread, so that registering completes even while the
        // owner is not calling receive().
        channel_.set_filter([this](std::string_view bytes, const udp::channel::address&) {
            const auto d = udp::decode_header(bytes, wire::role::publisher);
            if (!d || d->what != udp::kind::cookie) {
                return false;
            }
            take_cookie(d->id);
            return true;
        });
    }
    ~raw_udp_subscriber() override {
        channel_.set_filter({});
        std::string bye;
        udp::encode({wire::role::subscriber, udp::kind::goodbye, 0, {}, cookie_}, bye);
        channel_.send(bye);
    }
    raw_udp_subscriber(const raw_udp_subscriber&) = delete;
    raw_udp_subscriber& operator=(const raw_udp_subscriber&) = delete;

    void subscribe(std::string_view prefix) override {
        prefixes_.add(prefix);
        register_now();
    }
    void unsubscribe(std::string_view prefix) override {
        if (prefixes_.remove(prefix)) {
            register_now();
        }
    }

    bool receive(message& into, milliseconds timeout) override {
        const auto deadline = clock_type::now() + timeout;
        udp::channel::address from;
        for (;;) {
            const auto now = clock_type::now();
            if (now - last_registered_ >= refresh_interval) {
                register_now();
            }
            // Wake for the next refresh even while waiting for a message.
            auto wait =
                std::chrono::duration_cast<milliseconds>(last_registered_ + refresh_interval - now);
            if (timeout != forever) {
                const auto left = std::chrono::duration_cast<milliseconds>(deadline - now);
                if (left.count() < 0) {
                    return false;
                }
                wait = std::min(wait, left);
            }
            if (!channel_.receive(in_, from, std::max(wait, milliseconds{0}))) {
                if (timeout != forever && clock_type::now() >= deadline) {
                    return false;
                }
                continue;
            }
            auto d = udp::decode(in_, wire::role::publisher, opts_.max_message_size,
                                 opts_.max_message_frames);
            if (!d || d->what != udp::kind::publication || d->body.empty() ||
                !prefixes_.matches(d->body[0])) {
                continue;
            }
            if (d->id == 1) {
                expected_ = 1;  // a publisher that (re)registered us starts counting again
            }
            if (d->id < expected_) {
                continue;  // a duplicate or a late one, already counted as lost
            }
            lost_ += d->id - expected_;
            expected_ = d->id + 1;
            into = std::move(d->body);
            return true;
        }
    }

    std::uint64_t lost() const noexcept override { return lost_; }
    std::uint64_t oversized_dropped() const noexcept override { return 0; }
    poll_handle handle() const override { return poll_handle::descriptor(channel_.fd()); }
    const std::vector<std::string>& endpoints() const override { return endpoints_; }

  private:
    // I/O thread. A new cookie from the publisher: registers again with it at once, but at
    // most ten times a second, so that a stream of cookies cannot make this subscriber send a
    // stream back.
    void take_cookie(std::uint64_t cookie) {
        std::lock_guard lock(registration_mutex_);
        const bool changed = cookie_ != cookie;
        cookie_ = cookie;
        const auto now = clock_type::now();
        if (changed && now - last_answered_cookie_ >= milliseconds{100}) {
            last_answered_cookie_ = now;
            send_registration();
        }
    }

    void register_now() {
        std::lock_guard lock(registration_mutex_);
        registered_.clear();
        for (const auto& prefix : prefixes_.list()) {
            registered_.push_back(prefix);
        }
        send_registration();
        last_registered_ = clock_type::now();
    }

    // With registration_mutex_ held.
    void send_registration() {
        const auto what = registered_.empty() ? udp::kind::goodbye : udp::kind::subscribe;
        udp::encode({wire::role::subscriber, what, 0, registered_, cookie_}, out_);
        channel_.send(out_);
    }

    options opts_;
    udp::channel channel_;
    std::vector<std::string> endpoints_;
    prefix_set prefixes_;
    clock_type::time_point last_registered_{};
    std::uint64_t expected_ = 1;  // the next sequence number; each subscriber's starts at 1
    std::uint64_t lost_ = 0;
    // What the I/O thread shares with the owner's: the registration, resent with each cookie.
    std::mutex registration_mutex_;
    message registered_;                   // the prefixes last sent
    std::optional<std::uint64_t> cookie_;  // the publisher's, once it has sent one
    clock_type::time_point last_answered_cookie_{};
    std::string out_;
    std::string in_;
};

}  // namespace

std::unique_ptr<subscriber_impl> make_raw_udp_subscriber(const std::vector<endpoint>& endpoints,
                                                         const options& opts) {
    return std::make_unique<raw_udp_subscriber>(endpoints, opts);
}

}  // namespace zpat::detail
