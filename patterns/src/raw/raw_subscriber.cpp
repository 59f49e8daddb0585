// Subscriber on raw TCP: tells every publisher it reaches its prefixes (again after each
// reconnect) and filters locally too, so an unsubscribe takes effect at once: what already
// arrived for a dropped prefix is held back, as libzmq's SUB filters at receive.

#include <string>

#include "prefix_set.hpp"
#include "raw_cells.hpp"

namespace zpat::detail {
namespace {

class raw_subscriber final : public raw_receiving_cell<subscriber_impl>, private pipe_events {
  public:
    raw_subscriber(const std::vector<endpoint>& endpoints, const options& opts)
        : raw_receiving_cell(wire::role::subscriber, endpoints, opts, inbox::taking::batches) {
        pipes_->start(*this);
    }
    ~raw_subscriber() override { pipes_->close(); }
    raw_subscriber(const raw_subscriber&) = delete;
    raw_subscriber& operator=(const raw_subscriber&) = delete;

    void subscribe(std::string_view prefix) override {
        std::lock_guard lock(pipes_->mutex());
        prefixes_.add(prefix);
        tell_publishers('\x01', prefix);
    }

    void unsubscribe(std::string_view prefix) override {
        std::lock_guard lock(pipes_->mutex());
        if (!prefixes_.remove(prefix)) {
            return;
        }
        tell_publishers('\x00', prefix);
        inbox_.remove_if([&](const message& msg) { return !prefixes_.matches(msg[0]); });
    }

  private:
    // With the mutex held.
    void tell_publishers(char command, std::string_view prefix) {
        const message msg{std::string(1, command) + std::string(prefix)};
        for (const pipe_ptr& p : pipes_->peers()) {
            pipes_->enqueue(*p, msg);
        }
    }

    // A publisher starts knowing nothing of us: tell it every subscription, once.
    void greeted(pipe& p) override {
        pipes_->discard_queued(p);
        for (const std::string& prefix : prefixes_.list()) {
            pipes_->enqueue(p, message{"\x01" + prefix});
        }
    }
    // What was sent before our unsubscribe reached the publisher is dropped here.
    const char* arrived(pipe& p, std::size_t count) override {
        std::size_t kept = 0;
        for (std::size_t i = 0; i < count; ++i) {
            if (prefixes_.matches(p.stock[i][0])) {
                std::swap(p.stock[kept++], p.stock[i]);
            }
        }
        inbox_.accept(p, kept, count);
        return nullptr;
    }
    bool full(const pipe& p) override { return inbox_.full(p); }
    void ended(pipe& p) override { inbox_.ended(p); }

    prefix_set prefixes_;  // guarded by the mutex
};

}  // namespace

std::unique_ptr<subscriber_impl> make_raw_subscriber(const std::vector<endpoint>& endpoints,
                                                     const options& opts) {
    return std::make_unique<raw_subscriber>(endpoints, opts);
}

}  // namespace zpat::detail
