// Pipeline receiver on raw TCP: fair-queued from every connected pusher, one message per pusher
// in turn, each pusher read only while its messages below the high-water mark wait here.

#include "raw_cells.hpp"

namespace zpat::detail {
namespace {

class raw_puller final : public raw_receiving_cell<receiver_impl>, private pipe_events {
  public:
    raw_puller(const std::vector<endpoint>& endpoints, const options& opts)
        : raw_receiving_cell(wire::role::puller, endpoints, opts, inbox::taking::batches) {
        pipes_->start(*this);
    }
    ~raw_puller() override { pipes_->close(); }
    raw_puller(const raw_puller&) = delete;
    raw_puller& operator=(const raw_puller&) = delete;

  private:
    drop_reason arrived(pipe& p, std::size_t count) override {
        inbox_.accept(p, count, count);
        return nullptr;
    }
    bool full(const pipe& p) override { return inbox_.full(p); }
    void ended(pipe& p) override { inbox_.ended(p); }
};

}  // namespace

std::unique_ptr<receiver_impl> make_raw_puller(const std::vector<endpoint>& endpoints,
                                               const options& opts) {
    return std::make_unique<raw_puller>(endpoints, opts);
}

}  // namespace zpat::detail
