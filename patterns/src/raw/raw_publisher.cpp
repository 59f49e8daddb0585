// Publisher on raw TCP: subscribers send their prefixes upstream, so only matching messages
// cross the network; a subscriber at its high-water mark loses messages, which are counted.

#include "distributor.hpp"
#include "raw_cells.hpp"

namespace zpat::detail {
namespace {

class raw_publisher final : public publisher_impl, public encoded_sink, private pipe_events {
  public:
    raw_publisher(const std::vector<endpoint>& endpoints, const options& opts)
        : opts_(opts),
          pipes_(pipe_set::open(wire::role::publisher, endpoints, opts, false)),
          fan_out_(*pipes_, opts) {
        pipes_->start(*this);
    }
    ~raw_publisher() override { pipes_->close(); }
    raw_publisher(const raw_publisher&) = delete;
    raw_publisher& operator=(const raw_publisher&) = delete;

    bool send(const message& msg) override {
        check_sendable(msg, opts_);
        return fan_out_.send(msg, opts_.block_when_full);
    }
    encoded_sent send_encoded(std::string_view encoded) override {
        return fan_out_.send_encoded(encoded, opts_.block_when_full, opts_);
    }
    const options& send_limits() const override { return opts_; }
    bool wait_for_subscriptions(std::size_t count, milliseconds timeout) override {
        return fan_out_.wait_for_subscriptions(count, timeout);
    }
    std::size_t subscriptions_seen() const noexcept override {
        return fan_out_.subscriptions_seen();
    }
    std::uint64_t dropped() const override { return fan_out_.dropped(); }
    const std::vector<std::string>& endpoints() const override { return pipes_->endpoints(); }
    connection_counts connections() const override { return pipes_->counts(); }
    std::vector<connection_info> open_connections() const override { return pipes_->describe(); }

  private:
    // A subscriber sends subscription commands and nothing else.
    drop_reason arrived(pipe& p, std::size_t count) override {
        return fan_out_.take_commands(p, count);
    }
    void ended(pipe& p) override { fan_out_.ended(p); }

    options opts_;
    std::shared_ptr<pipe_set> pipes_;
    distributor fan_out_;
};

}  // namespace

std::unique_ptr<publisher_impl> make_raw_publisher(const std::vector<endpoint>& endpoints,
                                                   const options& opts) {
    return std::make_unique<raw_publisher>(endpoints, opts);
}

}  // namespace zpat::detail
