// Pipeline sender on raw TCP: round-robin over connected pullers, waiting at the high-water
// mark. A puller sends nothing; one that does is dropped.

#include "load_balancer.hpp"
#include "raw_cells.hpp"

namespace zpat::detail {
namespace {

class raw_pusher final : public sender_impl, private pipe_events {
  public:
    raw_pusher(const std::vector<endpoint>& endpoints, const options& opts)
        : opts_(opts),
          pipes_(pipe_set::open(wire::role::pusher, endpoints, opts, false)),
          balancer_(*pipes_) {
        pipes_->start(*this);
    }
    ~raw_pusher() override { pipes_->close(); }
    raw_pusher(const raw_pusher&) = delete;
    raw_pusher& operator=(const raw_pusher&) = delete;

    bool send(const message& msg) override {
        check_sendable(msg, opts_);
        return balancer_.send(msg);
    }
    const std::vector<std::string>& endpoints() const override { return pipes_->endpoints(); }
    connection_counts connections() const override { return pipes_->counts(); }
    std::vector<connection_info> open_connections() const override { return pipes_->describe(); }

  private:
    drop_reason arrived(pipe& p, std::size_t count) override {
        (void)p;
        return count == 0 ? nullptr : "a puller sent a message (pullers send nothing)";
    }

    options opts_;
    std::shared_ptr<pipe_set> pipes_;
    load_balancer balancer_;
};

}  // namespace

std::unique_ptr<sender_impl> make_raw_pusher(const std::vector<endpoint>& endpoints,
                                             const options& opts) {
    return std::make_unique<raw_pusher>(endpoints, opts);
}

}  // namespace zpat::detail
