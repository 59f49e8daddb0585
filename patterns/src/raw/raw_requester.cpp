// Requester on raw TCP, with the Lazy Pirate recovery: when a reply does not come in time the
// connections are dropped (so a late reply can never be taken for the next one), redialled,
// and the request sent again.

#include <algorithm>

#include "raw_cells.hpp"

namespace zpat::detail {
namespace {

class raw_requester final : public requester_impl {
  public:
    raw_requester(const std::vector<endpoint>& endpoints, const options& opts)
        : opts_(opts), socket_(wire::role::requester, endpoints, opts) {}

    std::optional<message> request(const message& request) override {
        check_raw_sendable(request, opts_);
        const int attempts = 1 + std::max(0, opts_.retries);
        for (attempts_ = 1; attempts_ <= attempts; ++attempts_) {
            message reply;
            if (socket_.send_round_robin(request) &&
                socket_.receive(reply, opts_.request_timeout)) {
                return reply;
            }
            socket_.reset();
        }
        attempts_ = attempts;
        return std::nullopt;
    }
    int last_attempts() const noexcept override { return attempts_; }
    const std::vector<std::string>& endpoints() const override { return socket_.endpoints(); }
    connection_counts connections() const override { return socket_.counts(); }

  private:
    options opts_;
    raw_socket socket_;
    int attempts_ = 0;
};

}  // namespace

std::unique_ptr<requester_impl> make_raw_requester(const std::vector<endpoint>& endpoints,
                                                   const options& opts) {
    return std::make_unique<raw_requester>(endpoints, opts);
}

}  // namespace zpat::detail
