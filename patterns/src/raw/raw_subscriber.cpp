// Subscriber on raw TCP: tells every publisher it reaches its prefixes (again after each
// reconnect) and filters locally too, so an unsubscribe takes effect at once.

#include "raw_cells.hpp"

namespace zpat::detail {
namespace {

class raw_subscriber final : public raw_receiving_cell<subscriber_impl> {
  public:
    raw_subscriber(const std::vector<endpoint>& endpoints, const options& opts)
        : raw_receiving_cell(wire::role::subscriber, endpoints, opts) {}

    void subscribe(std::string_view prefix) override { socket_.subscribe(prefix, true); }
    void unsubscribe(std::string_view prefix) override { socket_.subscribe(prefix, false); }
};

}  // namespace

std::unique_ptr<subscriber_impl> make_raw_subscriber(const std::vector<endpoint>& endpoints,
                                                     const options& opts) {
    return std::make_unique<raw_subscriber>(endpoints, opts);
}

}  // namespace zpat::detail
