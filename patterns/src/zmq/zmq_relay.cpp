// The relay between two ZeroMQ cells: each frame moves from one socket to the other as a
// zmq_msg_t, its bytes never copied (for large frames, libzmq hands over the buffer itself).
//
// libzmq delivers the frames of a message together and applies the high-water mark to its
// first frame only, so the one send that can find no room is the first: the relay then holds
// that frame, and the rest stay queued in the source socket until the next step sends them.

#include <cerrno>

#include "zmq_cells.hpp"

namespace zpat::detail {
namespace {

class zmq_relay final : public relay_impl {
  public:
    zmq_relay(zmq_socket_owner& from, zmq_socket_owner& to)
        : from_(from.owned_socket().socket().handle()),
          to_(to.owned_socket().socket().handle()),
          to_owner_(to) {
        zmq_msg_init(&part_);
    }
    ~zmq_relay() override { zmq_msg_close(&part_); }
    zmq_relay(const zmq_relay&) = delete;
    zmq_relay& operator=(const zmq_relay&) = delete;
    zmq_relay(zmq_relay&&) = delete;
    zmq_relay& operator=(zmq_relay&&) = delete;

    relayed step(const frame_watch& watch) override {
        if (!holding_) {
            if (!receive_part(ZMQ_DONTWAIT)) {
                return {relayed::idle, 0};
            }
            index_ = 0;
            bytes_ = 0;
            see(watch);
            holding_ = true;
        }
        for (;;) {
            const bool last = zmq_msg_more(&part_) == 0;
            if (!send_part(last)) {
                return {relayed::held, 0};  // only ever the first frame
            }
            if (last) {
                holding_ = false;
                to_owner_.after_relayed();
                return {relayed::moved, bytes_, 1};
            }
            // The rest of the message is already in the source socket.
            while (!receive_part(ZMQ_DONTWAIT)) {
            }
            ++index_;
            see(watch);
        }
    }

  private:
    bool receive_part(int flags) {
        if (zmq_msg_recv(&part_, from_, flags) >= 0) {
            return true;
        }
        if (errno == EAGAIN || errno == EINTR) {
            return false;
        }
        throw_zmq_failure("receive", errno);
    }

    // Sends part_; on the first frame, false when no room came within the send timeout. A later
    // frame always has room (the first one reserved it), so it is retried until it goes.
    bool send_part(bool last) {
        while (zmq_msg_send(&part_, to_, last ? 0 : ZMQ_SNDMORE) < 0) {
            if (errno != EAGAIN && errno != EINTR) {
                throw_zmq_failure("send", errno);
            }
            if (index_ == 0) {
                return false;
            }
        }
        return true;
    }

    void see(const frame_watch& watch) {
        const std::size_t size = zmq_msg_size(&part_);
        bytes_ += size;
        if (watch) {
            watch(index_, {static_cast<const char*>(zmq_msg_data(&part_)), size},
                  zmq_msg_more(&part_) == 0);
        }
    }

    void* from_;
    void* to_;
    zmq_socket_owner& to_owner_;
    zmq_msg_t part_{};
    bool holding_ = false;
    std::size_t index_ = 0;
    std::uint64_t bytes_ = 0;
};

}  // namespace

std::unique_ptr<relay_impl> make_zmq_relay(receiver_impl& from, sender_impl& to) {
    auto* source = dynamic_cast<zmq_socket_owner*>(&from);
    auto* destination = dynamic_cast<zmq_socket_owner*>(&to);
    if (source == nullptr || destination == nullptr) {
        return nullptr;
    }
    return std::make_unique<zmq_relay>(*source, *destination);
}

}  // namespace zpat::detail
