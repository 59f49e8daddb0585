// zmq_socket's hot paths: whole messages sent and received frame by frame (zmq_socket.hpp).
// They call libzmq's C functions directly: no exception set-up per frame, and the frame size
// comes from the receive call itself. would-block and interruption come back as false.

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <string>
#include <utility>

#include "seam/registry.hpp"
#include "zmq_socket.hpp"

namespace zpat::detail {
namespace {

const message no_head;  // the envelope of a message sent without one

}  // namespace

bool zmq_socket::send_frame(const std::string& frame, int flags) {
    if (zmq_send(socket_.handle(), frame.data(), frame.size(), flags) >= 0) {
        return true;
    }
    if (errno == EAGAIN || errno == EINTR) {
        return false;
    }
    throw_zmq_failure("send", errno);
}

bool zmq_socket::send(const message& msg) {
    return send_with(no_head, msg, 0);
}

bool zmq_socket::send(const message& head, const message& body) {
    return send_with(head, body, 0);
}

bool zmq_socket::send_now(const message& head, const message& body) {
    return send_with(head, body, ZMQ_DONTWAIT);
}

bool zmq_socket::send_with(const message& head, const message& body, int flags) {
    check_sendable(body, options_);
    if (backoff_ && (flags & ZMQ_DONTWAIT) == 0) {
        return send_waiting_here(head, body, flags);
    }
    // libzmq applies the high-water mark to the first frame only; once it is queued the rest of
    // the message always follows, so only the first send can return false.
    if (!head.empty() && !send_frames(head, flags, ZMQ_SNDMORE)) {
        return false;
    }
    return send_frames(body, flags, 0);
}

bool zmq_socket::send_frames(const message& frames, int flags, int last_more) {
    const std::size_t last = frames.size() - 1;
    for (std::size_t i = 0; i < last; ++i) {
        if (!send_frame(frames[i], flags | ZMQ_SNDMORE)) {
            return false;
        }
    }
    return send_frame(frames[last], flags | last_more);
}

bool zmq_socket::send_waiting_here(const message& head, const message& body, int flags) {
    // A CURVE client waits for room here rather than in libzmq, which would not see to its
    // back-off (zmq_reconnect.hpp): the first frame is tried at once, and waited for only if
    // refused.
    backoff_->upkeep();
    bool first = true;
    const auto send_next = [&](const std::string& frame, int more) {
        if (!std::exchange(first, false)) {
            return send_frame(frame, flags | more);
        }
        while (!send_frame(frame, flags | more | ZMQ_DONTWAIT)) {
            if (!wait_with_backoff(ZMQ_POLLOUT, options_.send_timeout)) {
                return false;
            }
        }
        return true;
    };
    for (const std::string& frame : head) {
        if (!send_next(frame, ZMQ_SNDMORE)) {
            return false;
        }
    }
    const std::size_t last = body.size() - 1;
    for (std::size_t i = 0; i <= last; ++i) {
        if (!send_next(body[i], i < last ? ZMQ_SNDMORE : 0)) {
            return false;
        }
    }
    return true;
}

bool zmq_socket::wait_with_backoff(short events, milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        backoff_->upkeep();
        milliseconds left = timeout;
        if (timeout != forever) {
            left = std::max(milliseconds{0}, std::chrono::ceil<milliseconds>(
                                                 deadline - std::chrono::steady_clock::now()));
        }
        std::array<zmq::pollitem_t, 2> items{
            {{socket_.handle(), 0, events, 0}, {nullptr, backoff_->fd(), ZMQ_POLLIN, 0}}};
        if (poll_interrupted(items, backoff_->wait(left))) {
            return false;
        }
        if ((items[0].revents & events) != 0) {
            return true;
        }
        if (left.count() == 0) {
            return false;
        }
    }
}

bool zmq_socket::receive_unless_refused(message& into, milliseconds timeout) {
    upkeep();
    if (!counts_->refusal) {
        return receive(into, timeout);
    }
    std::array<zmq::pollitem_t, 2> items{
        {{socket_.handle(), 0, ZMQ_POLLIN, 0}, {nullptr, counts_->refusal->fd(), ZMQ_POLLIN, 0}}};
    if (poll_interrupted(items, timeout)) {
        return false;
    }
    if ((items[0].revents & ZMQ_POLLIN) != 0) {
        return receive(into, milliseconds{0});
    }
    if ((items[1].revents & ZMQ_POLLIN) != 0) {
        throw security_error(counts_->reason());
    }
    return false;  // the timeout
}

bool zmq_socket::receive(message& into, milliseconds timeout) {
    // A CURVE client waits here rather than in libzmq, as send_with() does: the first frame is
    // tried at once, and waited for only if none is there.
    const bool wait_here = backoff_ && timeout.count() != 0;
    if (backoff_) {
        backoff_->upkeep();
    }
    set_receive_timeout(backoff_ ? milliseconds{0} : timeout);
    for (;;) {
        int size = receive_frame();
        if (size < 0 && wait_here && wait_with_backoff(ZMQ_POLLIN, timeout)) {
            size = receive_frame();
        }
        if (size < 0) {
            return false;
        }
        switch (take_message(into, size)) {
            case taken::whole:
                return true;
            case taken::cut:
                return false;
            case taken::dropped:
                ++oversized_dropped_;
                break;
        }
    }
}

zmq_socket::taken zmq_socket::take_message(message& into, int first_size) {
    zmq_msg_t* frame = frame_.handle();
    std::size_t count = 0;
    std::size_t total = 0;
    for (int size = first_size;;) {
        const auto length = static_cast<std::size_t>(size);
        total += length;
        if (total > options_.max_message_size || count == options_.max_message_frames) {
            return discard_rest();
        }
        into.assign_frame(count++, {static_cast<const char*>(zmq_msg_data(frame)), length});
        if (zmq_msg_get(frame, ZMQ_MORE) == 0) {
            break;
        }
        // The remaining frames of a message are already here: this never waits.
        size = receive_frame();
        if (size < 0) {
            return taken::cut;
        }
    }
    into.truncate(count);
    if (zap_) {
        // Every frame of a connection's message carries its ZAP user id: the last one.
        const char* key = zmq_msg_gets(frame, "User-Id");
        peer_key_.assign(key != nullptr ? key : "");
    }
    if (track_sources_) {
        source_ = zmq_msg_get(frame, ZMQ_SRCFD);
    }
    return taken::whole;
}

zmq_socket::taken zmq_socket::discard_rest() {
    while (zmq_msg_get(frame_.handle(), ZMQ_MORE) != 0) {
        if (receive_frame() < 0) {
            return taken::cut;
        }
    }
    return taken::dropped;
}

}  // namespace zpat::detail
