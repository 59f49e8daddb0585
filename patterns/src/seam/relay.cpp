// The relay that serves any pair of cells: it receives the messages waiting, up to a batch, and
// sends them on together, so a backend that sends a batch at once (send_many) takes its lock and
// wakes its writer once a batch rather than once a message. A backend with a cheaper way between
// two of its own cells offers its own.

#include <exception>
#include <span>
#include <utility>
#include <vector>

#include "seam/registry.hpp"

namespace zpat::detail {
namespace {

class batching_relay final : public relay_impl {
  public:
    static constexpr std::size_t batch_limit = 256;

    batching_relay(receiver_impl& from, sender_impl& to) : from_(from), to_(to) {}

    relayed step(const frame_watch& watch) override {
        if (failed_) {
            std::rethrow_exception(std::exchange(failed_, nullptr));
        }
        if (next_ == filled_) {
            fill(watch);
            if (filled_ == 0) {
                return {relayed::idle, 0, 0};
            }
        }
        // A message whose send throws is lost, as the send a user would have made loses it;
        // those after it go at the next step. Those before it went: this step reports them,
        // and the next throws.
        const std::span<const message> waiting(batch_.data() + next_, filled_ - next_);
        std::size_t sent = 0;
        try {
            to_.send_many(waiting, sent);
        } catch (...) {
            if (sent == 0) {
                ++next_;
                throw;
            }
            failed_ = std::current_exception();
        }
        if (sent == 0) {
            return {relayed::held, 0, 0};
        }
        std::uint64_t bytes = 0;
        for (std::size_t i = next_; i < next_ + sent; ++i) {
            bytes += batch_[i].byte_size();
        }
        next_ += sent + (failed_ ? 1 : 0);
        return {relayed::moved, bytes, sent};
    }

  private:
    // Receives what waits, without waiting, up to batch_limit messages. The storage of the
    // messages sent before is what the receiver fills (and, on raw, takes back).
    void fill(const frame_watch& watch) {
        next_ = filled_ = 0;
        while (filled_ < batch_limit) {
            if (filled_ == batch_.size()) {
                batch_.emplace_back();
            }
            message& msg = batch_[filled_];
            if (!from_.receive(msg, milliseconds{0})) {
                break;
            }
            ++filled_;
            if (watch) {
                for (std::size_t i = 0; i < msg.size(); ++i) {
                    watch(i, msg[i], i + 1 == msg.size());
                }
            }
        }
    }

    receiver_impl& from_;
    sender_impl& to_;
    std::vector<message> batch_;
    std::size_t filled_ = 0;     // messages in batch_ received
    std::size_t next_ = 0;       // the first of them not sent yet
    std::exception_ptr failed_;  // a send's, for the next step to throw
};

}  // namespace

std::unique_ptr<relay_impl> make_relay(receiver_impl& from, sender_impl& to) {
    for (const backend* owner :
         {&zmq_backend(), &raw_tcp_backend(), &raw_tls_backend(), &raw_udp_backend()}) {
        if (owner->make_relay != nullptr) {
            if (auto own = owner->make_relay(from, to)) {
                return own;
            }
        }
    }
    return std::make_unique<batching_relay>(from, to);
}

}  // namespace zpat::detail
