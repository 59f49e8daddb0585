// Publisher on raw TCP: subscribers send their prefixes upstream, so only matching messages
// cross the network; a subscriber at its high-water mark loses messages, which are counted.

#include "raw_cells.hpp"

namespace zpat::detail {
namespace {

class raw_publisher final : public publisher_impl {
  public:
    raw_publisher(const std::vector<endpoint>& endpoints, const options& opts)
        : opts_(opts), socket_(wire::role::publisher, endpoints, opts) {}

    bool send(const message& msg) override {
        check_raw_sendable(msg, opts_);
        return socket_.send_to_subscribers(msg, opts_.block_when_full);
    }
    bool wait_for_subscriptions(std::size_t count, milliseconds timeout) override {
        return socket_.wait_for_subscriptions(count, timeout);
    }
    std::size_t subscriptions_seen() const noexcept override {
        return socket_.subscriptions_seen();
    }
    std::uint64_t dropped() const override { return socket_.dropped(); }
    const std::vector<std::string>& endpoints() const override { return socket_.endpoints(); }
    connection_counts connections() const override { return socket_.counts(); }

  private:
    options opts_;
    raw_socket socket_;
};

}  // namespace

std::unique_ptr<publisher_impl> make_raw_publisher(const std::vector<endpoint>& endpoints,
                                                   const options& opts) {
    return std::make_unique<raw_publisher>(endpoints, opts);
}

}  // namespace zpat::detail
