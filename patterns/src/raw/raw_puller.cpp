// Pipeline receiver on raw TCP: messages from every connected pusher in order of arrival; a
// pusher whose messages we cannot keep up with is paused at the high-water mark.

#include "raw_cells.hpp"

namespace zpat::detail {
namespace {

class raw_puller final : public receiver_impl {
  public:
    raw_puller(const std::vector<endpoint>& endpoints, const options& opts)
        : socket_(wire::role::puller, endpoints, opts) {}

    bool receive(message& into, milliseconds timeout) override {
        return socket_.receive(into, timeout);
    }
    std::uint64_t oversized_dropped() const noexcept override { return 0; }
    poll_handle handle() const override { return {nullptr, socket_.readable_fd()}; }
    const std::vector<std::string>& endpoints() const override { return socket_.endpoints(); }

  private:
    raw_socket socket_;
};

}  // namespace

std::unique_ptr<receiver_impl> make_raw_puller(const std::vector<endpoint>& endpoints,
                                               const options& opts) {
    return std::make_unique<raw_puller>(endpoints, opts);
}

}  // namespace zpat::detail
