#pragma once
// What the two request-reply queues share (queue.cpp, pirate_queue.cpp): their sockets, ZeroMQ
// only, and their counters.

#include <string>

#include "device.hpp"
#include "zpat/core/error.hpp"
#include "zpat/router.hpp"

namespace zpat::broker::detail {

// Opens one side of the queue called `device` on `endpoints` (bound unless written '>'). Sends
// never wait: a message that finds no room is held or dropped by the device, which must go on
// serving the other side. Throws: unsupported_error naming the device for a raw endpoint.
template <class Role>
Role open_queue_side(const char* device, const std::string& endpoints, int high_water_mark,
                     const device_settings& shared) {
    const options opts = shared.secured({.send_high_water_mark = high_water_mark,
                                         .receive_high_water_mark = high_water_mark,
                                         .max_message_size = shared.bytes,
                                         .max_message_frames = shared.frames,
                                         .send_timeout = milliseconds{0}},
                                        endpoints);
    try {
        return Role(bind_by_default(endpoints), opts);
    } catch (const unsupported_error& e) {
        throw unsupported_error("the " + std::string(device) + " on '" + endpoints +
                                "' is not supported: the Guide's request-reply queues are "
                                "ZeroMQ devices (" +
                                e.what() + ")");
    }
}

struct queue_counters {
    traffic_counters counts;
    counter requests;
    counter replies;
    counter unroutable;

    void received(const message& msg) {
        counts.messages_in.add();
        counts.bytes_in.add(msg.byte_size());
    }
    void sent(const message& msg) {
        counts.messages_out.add();
        counts.bytes_out.add(msg.byte_size());
    }
    // Sends a reply to the client its first frame names: counted as passed, or as dropped
    // because that client has gone or its queue is full.
    void route(zpat::router& clients, const message& reply) {
        const std::uint64_t gone = clients.unroutable();
        if (clients.send(reply)) {
            sent(reply);
            replies.add();
        } else if (clients.unroutable() != gone) {
            unroutable.add();
        } else {
            counts.dropped_full.add();
        }
    }
    // The sockets' own count of messages they dropped over the size limits.
    void note_oversized(std::uint64_t dropped) { counts.dropped_oversized.set(dropped); }

    queue_stats snapshot(const connection_counts& front, const connection_counts& back) const {
        traffic t = counts.snapshot();
        t.frontend_connections = front;
        t.backend_connections = back;
        return {t, requests.get(), replies.get(), unroutable.get()};
    }
};

}  // namespace zpat::broker::detail
