// Subscriber on raw TCP: tells every publisher it reaches its prefixes (again after each
// reconnect) and filters locally too, so an unsubscribe takes effect at once.

#include "raw_cells.hpp"

namespace zpat::detail {
namespace {

class raw_subscriber final : public subscriber_impl {
  public:
    raw_subscriber(const std::vector<endpoint>& endpoints, const options& opts)
        : socket_(wire::role::subscriber, endpoints, opts) {}

    void subscribe(std::string_view prefix) override { socket_.subscribe(prefix, true); }
    void unsubscribe(std::string_view prefix) override { socket_.subscribe(prefix, false); }
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

std::unique_ptr<subscriber_impl> make_raw_subscriber(const std::vector<endpoint>& endpoints,
                                                     const options& opts) {
    return std::make_unique<raw_subscriber>(endpoints, opts);
}

}  // namespace zpat::detail
