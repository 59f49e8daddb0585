#pragma once
// Options shared by every role. Fields a role does not use are ignored by it.
// Use designated initializers: zpat::options{.request_timeout = 500ms, .retries = 1}.

#include <chrono>
#include <cstddef>

namespace zpat {

using std::chrono::milliseconds;

// A timeout or linger of this value waits without limit.
inline constexpr milliseconds forever{-1};

struct options {
    // Messages queued per peer before a sender waits (pusher, requester) or drops (publisher).
    // 0 means no limit.
    int send_high_water_mark = 1000;
    int receive_high_water_mark = 1000;
    // How long unsent messages are kept after a role is destroyed.
    milliseconds linger{1000};
    // Largest message, all frames together, that a role sends or accepts. Larger ones are refused
    // on send (message_size_error) and discarded on receive (a peer sending one larger frame is
    // disconnected by ZeroMQ).
    std::size_t max_message_size = std::size_t{16} * 1024 * 1024;
    // How long send() may wait for room at the high-water mark before returning false.
    milliseconds send_timeout = forever;
    // Publisher only: wait at the high-water mark instead of dropping (lossless pub-sub, for
    // benchmarks and tests; a slow subscriber then slows the publisher down).
    bool block_when_full = false;
    // Requester only: how long to wait for each reply, and how many times to retry after the
    // first attempt before giving up. Each retry starts from a fresh connection (Lazy Pirate).
    milliseconds request_timeout{2500};
    int retries = 3;
    // Service worker only (Majordomo): a heartbeat goes to the broker every heartbeat_interval;
    // the broker is presumed gone after heartbeat_liveness intervals with nothing heard, and the
    // worker registers again after reconnect_interval. The ZeroMQ Guide's values.
    milliseconds heartbeat_interval{2500};
    int heartbeat_liveness = 3;
    milliseconds reconnect_interval{2500};
};

}  // namespace zpat
