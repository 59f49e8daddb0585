// The relay that serves any pair of cells: it receives each message whole and sends it again.
// A backend with a cheaper way between two of its own cells offers its own.

#include "seam/registry.hpp"

namespace zpat::detail {
namespace {

class copying_relay final : public relay_impl {
  public:
    copying_relay(receiver_impl& from, sender_impl& to) : from_(from), to_(to) {}

    relayed step(const frame_watch& watch, watched_frames which) override {
        if (!holding_) {
            if (!from_.receive(message_, milliseconds{0})) {
                return {relayed::idle, 0};
            }
            if (watch) {
                const std::size_t shown = which == watched_frames::all ? message_.size() : 1;
                for (std::size_t i = 0; i < shown && i < message_.size(); ++i) {
                    watch(i, message_[i], i + 1 == message_.size());
                }
            }
        }
        // A send that throws loses the message, like the send that a user would have made.
        holding_ = false;
        if (!to_.send(message_)) {
            holding_ = true;
            return {relayed::held, 0};
        }
        return {relayed::moved, message_.byte_size(), 1};
    }

  private:
    receiver_impl& from_;
    sender_impl& to_;
    message message_;
    bool holding_ = false;
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
    return std::make_unique<copying_relay>(from, to);
}

}  // namespace zpat::detail
