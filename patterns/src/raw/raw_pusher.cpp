// Pipeline sender on raw TCP: round-robin over connected pullers, waiting at the high-water mark.

#include "raw_cells.hpp"

namespace zpat::detail {
namespace {

class raw_pusher final : public sender_impl {
  public:
    raw_pusher(const std::vector<endpoint>& endpoints, const options& opts)
        : opts_(opts), socket_(wire::role::pusher, endpoints, opts) {}

    bool send(const message& msg) override {
        check_raw_sendable(msg, opts_);
        return socket_.send_round_robin(msg);
    }
    const std::vector<std::string>& endpoints() const override { return socket_.endpoints(); }
    connection_counts connections() const override { return socket_.counts(); }

  private:
    options opts_;
    raw_socket socket_;
};

}  // namespace

std::unique_ptr<sender_impl> make_raw_pusher(const std::vector<endpoint>& endpoints,
                                             const options& opts) {
    return std::make_unique<raw_pusher>(endpoints, opts);
}

}  // namespace zpat::detail
