// The relay between two ZeroMQ cells: each frame moves from one socket to the other as a
// zmq_msg_t, its bytes never copied (for large frames, libzmq hands over the buffer itself).
//
// libzmq delivers the frames of a message together and applies the high-water mark to its
// first frame only, so the one send that can find no room is the first: the relay then holds
// that frame, and the rest stay queued in the source socket until the next step sends them.

#include <cerrno>
#include <climits>

#include "zmq_cells.hpp"

namespace zpat::detail {
namespace {

// Messages one step moves at most, so that a caller looks at its stop token and its other work
// between steps however fast messages come; a step per message cost more than the libzmq calls
// it made.
constexpr std::uint64_t messages_per_step = 256;

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

    relayed step(const frame_watch& watch, watched_frames which) override {
        const frame_watch& shown = which == watched_frames::all ? watch : no_watch_;
        relayed out{relayed::idle, 0, 0};
        while (out.messages < messages_per_step) {
            if (!holding_ && !receive_first(watch)) {
                break;
            }
            if (!send_message(shown)) {
                if (out.messages == 0) {
                    out.what = relayed::held;
                }
                break;
            }
            out.what = relayed::moved;
            out.bytes += bytes_;
            ++out.messages;
        }
        if (out.messages > 0) {
            to_owner_.after_relayed(out.messages);
        }
        return out;
    }

  private:
    // Takes the first frame of the next message, if one waits.
    bool receive_first(const frame_watch& watch) {
        if (!receive_part(ZMQ_DONTWAIT)) {
            return false;
        }
        index_ = 0;
        bytes_ = 0;
        holding_ = true;
        see(watch);
        return true;
    }

    // Sends the message whose first frame is held, frame by frame, showing `watch` the frames
    // after the first; false when the first frame found no room (it stays held).
    bool send_message(const frame_watch& watch) {
        for (;;) {
            if (!send_part()) {
                return false;  // only ever the first frame
            }
            if (!more_) {
                holding_ = false;
                return true;
            }
            // The rest of the message is already in the source socket.
            while (!receive_part(ZMQ_DONTWAIT)) {
            }
            ++index_;
            see(watch);
        }
    }

    // Receives a frame into part_, noting its size and whether more follow.
    bool receive_part(int flags) {
        const int received = zmq_msg_recv(&part_, from_, flags);
        if (received < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                return false;
            }
            throw_zmq_failure("receive", errno);
        }
        // zmq_msg_recv says INT_MAX for any larger frame.
        size_ = received < INT_MAX ? static_cast<std::size_t>(received) : zmq_msg_size(&part_);
        more_ = zmq_msg_more(&part_) != 0;
        return true;
    }

    // Sends part_; on the first frame, false when no room came within the send timeout. A later
    // frame always has room (the first one reserved it), so it is retried until it goes.
    bool send_part() {
        while (zmq_msg_send(&part_, to_, more_ ? ZMQ_SNDMORE : 0) < 0) {
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
        bytes_ += size_;
        if (watch) {
            watch(index_, {static_cast<const char*>(zmq_msg_data(&part_)), size_}, !more_);
        }
    }

    void* from_;
    void* to_;
    zmq_socket_owner& to_owner_;
    frame_watch no_watch_;  // for the frames after the first, when only first ones are watched
    zmq_msg_t part_{};
    std::size_t size_ = 0;  // of part_, as received
    bool more_ = false;     // whether frames follow part_ in its message
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
