// Plain datagrams over raw UDP: the channel of the raw+udp roles, with nothing of zpat's wire
// format on it. Each datagram is one message as it came.

#include <algorithm>
#include <atomic>
#include <chrono>

#include "raw_cells.hpp"
#include "udp.hpp"
#include "zpat/core/error.hpp"

namespace zpat::detail {
namespace {

class raw_datagram final : public datagram_impl {
  public:
    raw_datagram(const std::vector<endpoint>& endpoints, const options& opts)
        : max_size_(opts.max_message_size), channel_(endpoints, opts) {
        endpoints_.push_back(channel_.resolved());
    }

    std::optional<datagram_received> receive(milliseconds timeout) override {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        datagram_received got;
        udp::channel::address from;
        for (;;) {
            milliseconds left = forever;
            if (timeout != forever) {
                left = std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(
                                                     deadline - std::chrono::steady_clock::now()));
            }
            if (!channel_.receive(got.bytes, from, left)) {
                return std::nullopt;
            }
            if (got.bytes.size() <= max_size_) {
                break;
            }
            oversized_.fetch_add(1);
        }
        got.from.text = udp::channel::text(from);
        got.from.native = std::move(from.bytes);
        return got;
    }

    bool send(const datagram_peer* to, std::string_view bytes) override {
        if (to == nullptr && channel_.bound()) {
            throw state_error(
                "a bound datagram has no peer of its own: send to the peer a "
                "datagram came from, or connect with '>raw+udp://host:port'");
        }
        if (to != nullptr && to->native.empty()) {
            throw state_error(
                "datagram::send: the peer has no address; answer one that a "
                "datagram came from");
        }
        const std::size_t most = std::min(max_size_, udp::max_datagram);
        if (bytes.size() > most) {
            throw message_size_error(
                "datagram of " + std::to_string(bytes.size()) + " bytes exceeds " +
                (most == max_size_ ? "max_message_size of " + std::to_string(most) + " bytes"
                                   : "the " + std::to_string(most) +
                                         " bytes one UDP datagram carries; use raw+tcp:// and "
                                         "a stream for larger messages"));
        }
        if (to == nullptr) {
            return channel_.send(bytes);
        }
        const udp::channel::address target{to->native};
        return channel_.send(bytes, &target);
    }

    std::uint64_t dropped() const override { return channel_.dropped() + oversized_.load(); }
    poll_handle handle() const override { return poll_handle::descriptor(channel_.fd()); }
    const std::vector<std::string>& endpoints() const override { return endpoints_; }

  private:
    std::size_t max_size_;
    udp::channel channel_;
    std::vector<std::string> endpoints_;
    std::atomic<std::uint64_t> oversized_{0};
};

}  // namespace

std::unique_ptr<datagram_impl> make_raw_datagram(const std::vector<endpoint>& endpoints,
                                                 const options& opts) {
    return std::make_unique<raw_datagram>(endpoints, opts);
}

}  // namespace zpat::detail
