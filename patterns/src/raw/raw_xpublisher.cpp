// XPublisher on raw TCP: a publisher (the distributor filters for each subscriber) that also
// hands its user the subscriptions as messages, as ZeroMQ's XPUB with XPUB_VERBOSER does: every
// subscribe, every unsubscribe from a prefix the subscriber held, and, when a subscriber goes,
// an unsubscribe for each subscription it still held. So what the user reads always balances:
// a device counting subscriptions, or passing them upstream, ends where it began.

#include <map>
#include <string>
#include <unordered_map>

#include "distributor.hpp"
#include "raw_cells.hpp"

namespace zpat::detail {
namespace {

class raw_xpublisher final : public xpublisher_impl, public encoded_sink, private pipe_events {
  public:
    raw_xpublisher(const std::vector<endpoint>& endpoints, const options& opts)
        : opts_(opts),
          pipes_(pipe_set::open(wire::role::publisher, endpoints, opts, false)),
          subscriptions_(*pipes_, inbox::taking::one_at_a_time),
          fan_out_(*pipes_, opts) {
        pipes_->start(*this);
    }
    ~raw_xpublisher() override { pipes_->close(); }
    raw_xpublisher(const raw_xpublisher&) = delete;
    raw_xpublisher& operator=(const raw_xpublisher&) = delete;

    bool send(const message& msg) override {
        check_sendable(msg, opts_);
        return fan_out_.send(msg, opts_.block_when_full);
    }
    encoded_sent send_encoded(std::string_view encoded) override {
        return fan_out_.send_encoded(encoded, opts_.block_when_full, opts_);
    }
    const options& send_limits() const override { return opts_; }
    bool receive_subscription(message& into, milliseconds timeout) override {
        return subscriptions_.receive(into, timeout);
    }
    poll_handle subscriptions_handle() const override {
        return poll_handle::descriptor(subscriptions_.readable_fd());
    }
    std::uint64_t dropped() const override { return fan_out_.dropped(); }
    const std::vector<std::string>& endpoints() const override { return pipes_->endpoints(); }
    connection_counts connections() const override { return pipes_->counts(); }
    std::vector<connection_info> open_connections() const override { return pipes_->describe(); }

  private:
    // Prefix -> subscriptions to it, of one subscriber.
    using held = std::map<std::string, std::size_t, std::less<>>;

    // A subscriber sends subscription commands and nothing else. An unsubscribe from a prefix
    // it does not hold changes nothing and is not passed on.
    drop_reason arrived(pipe& p, std::size_t count) override {
        held& mine = held_[&p];
        std::size_t kept = 0;
        drop_reason refusal;
        for (std::size_t i = 0; i < count; ++i) {
            const auto c = distributor::parse(p.stock[i]);
            if (!c) {
                refusal = "a subscriber sent something other than a subscription";
                break;
            }
            if (refusal = fan_out_.refusal(p, *c); refusal.why != nullptr) {
                break;
            }
            if (note(mine, *c) && fan_out_.apply(p, *c)) {
                std::swap(p.stock[kept++], p.stock[i]);
            }
        }
        subscriptions_.accept(p, kept, count);  // those before a refusal still count
        return refusal;
    }
    bool full(const pipe& p) override { return subscriptions_.full(p); }
    void ended(pipe& p) override {
        if (const auto it = held_.find(&p); it != held_.end()) {
            for (const auto& [prefix, times] : it->second) {
                for (std::size_t i = 0; i < times; ++i) {
                    subscriptions_.accept_one(p, message{'\x00' + prefix});
                }
            }
            held_.erase(it);
        }
        fan_out_.ended(p);
        subscriptions_.ended(p);
    }

    // Counts `c` in `mine`. Returns false for an unsubscribe from a prefix not held.
    static bool note(held& mine, distributor::command c) {
        if (c.subscribe) {
            const auto [it, added] = mine.try_emplace(std::string(c.prefix), 0);
            ++it->second;
            return true;
        }
        const auto it = mine.find(c.prefix);
        if (it == mine.end()) {
            return false;
        }
        if (--it->second == 0) {
            mine.erase(it);
        }
        return true;
    }

    options opts_;
    std::shared_ptr<pipe_set> pipes_;
    inbox subscriptions_;
    distributor fan_out_;
    std::unordered_map<const pipe*, held> held_;  // guarded by the mutex
};

}  // namespace

std::unique_ptr<xpublisher_impl> make_raw_xpublisher(const std::vector<endpoint>& endpoints,
                                                     const options& opts) {
    return std::make_unique<raw_xpublisher>(endpoints, opts);
}

}  // namespace zpat::detail
