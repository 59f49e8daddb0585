// Requester on raw TCP, with the Lazy Pirate recovery: when a reply does not come in time the
// connections are dropped (so a late reply can never be taken for the next one), redialled,
// and the request sent again.

#include <algorithm>
#include <string>
#include <utility>

#include "load_balancer.hpp"
#include "raw_cells.hpp"
#include "zpat/core/error.hpp"

namespace zpat::detail {
namespace {

class raw_requester final : public requester_impl, private pipe_events {
  public:
    raw_requester(const std::vector<endpoint>& endpoints, const options& opts)
        : opts_(opts),
          pipes_(pipe_set::open(wire::role::requester, endpoints, opts, true)),
          balancer_(*pipes_),
          replies_(*pipes_, inbox::taking::one_at_a_time) {
        pipes_->start(*this);
    }
    ~raw_requester() override { pipes_->close(); }
    raw_requester(const raw_requester&) = delete;
    raw_requester& operator=(const raw_requester&) = delete;

    std::optional<message> request(const message& request) override {
        check_sendable(request, opts_);
        const int attempts = 1 + std::max(0, opts_.retries);
        for (attempts_ = 1; attempts_ <= attempts; ++attempts_) {
            message reply;
            if (balancer_.send(request) && replies_.receive(reply, opts_.request_timeout)) {
                balancer_.repeat_last();  // the next request goes to the server that answered
                return reply;
            }
            reset();
            throw_if_refused();
        }
        attempts_ = attempts;
        return std::nullopt;
    }
    int last_attempts() const noexcept override { return attempts_; }
    const std::vector<std::string>& endpoints() const override { return pipes_->endpoints(); }
    connection_counts connections() const override { return pipes_->counts(); }
    std::vector<connection_info> open_connections() const override { return pipes_->describe(); }

  private:
    // Drops every connection (and anything they might still deliver) and redials.
    void reset() {
        std::lock_guard lock(pipes_->mutex());
        replies_.clear();
        pipes_->reset();
    }

    // raw+tls: a server that refused us, or that we refused, ends the request at once with
    // the reason, rather than after every retry's timeout.
    void throw_if_refused() {
        std::string why;
        {
            std::lock_guard lock(pipes_->mutex());
            why = std::exchange(refusal_, {});
            replies_.clear_interrupt_held();
        }
        if (!why.empty()) {
            throw security_error(why);
        }
    }

    void refused(pipe& p, const std::string& why) override {
        (void)p;
        refusal_ = why;
        replies_.interrupt_held();
    }

    // A stale pipe's reply answers an abandoned request: dropped.
    drop_reason arrived(pipe& p, std::size_t count) override {
        replies_.accept(p, p.stale ? 0 : count, count);
        return nullptr;
    }
    bool full(const pipe& p) override { return replies_.full(p); }
    void ended(pipe& p) override { replies_.ended(p); }

    options opts_;
    std::shared_ptr<pipe_set> pipes_;
    load_balancer balancer_;
    inbox replies_;
    int attempts_ = 0;
    std::string refusal_;  // guarded by the pipes' mutex
};

}  // namespace

std::unique_ptr<requester_impl> make_raw_requester(const std::vector<endpoint>& endpoints,
                                                   const options& opts) {
    return std::make_unique<raw_requester>(endpoints, opts);
}

}  // namespace zpat::detail
