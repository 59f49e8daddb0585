#pragma once
// Options shared by every role. Fields a role does not use are ignored by it.
// Use designated initializers: zpat::options{.request_timeout = 500ms, .retries = 1}.

#include <chrono>
#include <cstddef>
#include <optional>

#include "zpat/core/curve.hpp"
#include "zpat/core/tls.hpp"

namespace zpat {

using std::chrono::milliseconds;

// A timeout or linger of this value waits without limit.
inline constexpr milliseconds forever{-1};

// Which thread does a role's socket I/O (options::io).
enum class io_model {
    // The default: caller for a requester, service client or service worker connecting to
    // tcp:// without CURVE, where it keeps every promise and saves two wakeups a round trip;
    // io_thread for the rest.
    automatic,
    io_thread,  // the backend's I/O thread (libzmq's, or the raw backend's): every role
    caller,     // the caller's thread, zpat's own ZMTP: router, xpub, xsub, req, MDP roles
};

struct options {
    // Messages queued per peer before a sender waits (pusher, requester) or drops (publisher).
    // 0 means no limit.
    int send_high_water_mark = 1000;
    int receive_high_water_mark = 1000;
    // raw+tcp: bytes queued per peer before a sender waits or a publisher drops, as at
    // send_high_water_mark (whichever comes first), so that a peer that never reads holds at
    // most this much of the sender's memory. 0 means no limit.
    std::size_t send_high_water_bytes = std::size_t{64} * 1024 * 1024;
    // raw+tcp: bytes of received messages waiting in one role, from all its peers together,
    // before it stops reading them (as at receive_high_water_mark, which bounds each peer's
    // count): what the senders can make a receiver hold. 0 means no limit.
    std::size_t receive_high_water_bytes = std::size_t{64} * 1024 * 1024;
    // How long unsent messages are kept after a role is destroyed.
    milliseconds linger{1000};
    // Largest message, all frames together, that a role sends or accepts. Larger ones are refused
    // on send (message_size_error) and discarded on receive (a peer sending one larger frame is
    // disconnected by ZeroMQ).
    std::size_t max_message_size = std::size_t{16} * 1024 * 1024;
    // Most frames in one message, treated as max_message_size is: refused on send, discarded on
    // receive. Each frame costs memory beyond its bytes, so a message of many empty frames is
    // bounded here. raw+tcp's wire format carries at most 1024; more is refused there.
    std::size_t max_message_frames = 1024;
    // How long send() may wait for room at the high-water mark before returning false.
    milliseconds send_timeout = forever;
    // Queue messages only to connections that are complete (ZMQ_IMMEDIATE): with none, a
    // pusher or requester waits for one (send_timeout) and a publisher drops, instead of
    // queueing to an endpoint still connecting, where a message waits for a peer that may never
    // come. raw+udp has no connections and refuses it.
    bool immediate = false;
    // Limits on each connection, so that one peer cannot hold memory or a connection slot
    // without end. A connection that breaks a time limit is closed with a logged reason; other
    // peers lose nothing. raw+tcp applies all three; ZeroMQ applies handshake_timeout
    // (ZMQ_HANDSHAKE_IVL) and bounds its queues by send_high_water_mark messages only.
    //  - the greeting must arrive within this after the connection opens (forever: no limit;
    //    on ZeroMQ 0 means no limit too, as libzmq's ZMQ_HANDSHAKE_IVL does);
    milliseconds handshake_timeout{30000};
    //  - a message that has begun to arrive must be complete within this (a peer that declares
    //    a large message and trickles it is closed); time spent not reading, at the receive
    //    high-water mark, does not count;
    milliseconds partial_message_timeout{60000};
    //  - with nothing received for this long a connection is closed (off by default).
    milliseconds idle_timeout = forever;
    // Publisher only: what one subscriber may make a publisher hold. A subscriber that would
    // hold more than max_subscriptions at once, or subscribes to a prefix longer than
    // max_subscription_prefix bytes, is cut off: over raw+tcp and ZeroMQ its connection closed
    // (ZeroMQ: within what libzmq had already read from it; see docs/robustness.md), over
    // raw+udp its registration dropped; logged, and counted in connections().over_limits.
    // 0: no limit.
    std::size_t max_subscriptions = 10000;
    std::size_t max_subscription_prefix = 1024;
    // Publisher only, raw+udp: how many subscribers it sends to, all told and from one host
    // (IP address). A subscription past either, or past the two limits above, is not taken
    // and is counted in connections().over_limits. 0: no limit.
    std::size_t max_subscribers = 4096;
    std::size_t max_subscribers_per_host = 64;
    // Publisher only: wait at the high-water mark instead of dropping (lossless pub-sub, for
    // benchmarks and tests; a slow subscriber then slows the publisher down).
    bool block_when_full = false;
    // Requester only: how long to wait for each reply, and how many times to retry after the
    // first attempt before giving up. Each retry starts from a fresh connection (Lazy Pirate).
    milliseconds request_timeout{2500};
    int retries = 3;
    // Subscriber only, ZeroMQ: take the endpoints as alternatives (a Binary Star pair of
    // brokers, or a list of them, each publishing the same messages) instead of as publishers to
    // hear all at once. It listens at one at a time, in order, and moves on to the next, where it
    // subscribes again, once its connection is lost or none is made within failover_timeout, as
    // the ZeroMQ Guide's Binary Star client does. A connection that hears nothing (not even
    // ZeroMQ's heartbeats, sent every third of failover_timeout) for failover_timeout is lost.
    // It moves on while it waits in receive(). raw+ endpoints refuse it.
    bool failover = false;
    milliseconds failover_timeout{1000};
    // Service worker only (Majordomo): a heartbeat goes to the broker every heartbeat_interval;
    // the broker is presumed gone after heartbeat_liveness intervals with nothing heard, and the
    // worker registers again after reconnect_interval. The ZeroMQ Guide's values.
    milliseconds heartbeat_interval{2500};
    int heartbeat_liveness = 3;
    milliseconds reconnect_interval{2500};
    // ZeroMQ over tcp:// and ipc:// only: CURVE encryption and client authentication
    // (zpat/core/curve.hpp). Unset: no security, as in plain ZeroMQ.
    std::optional<curve_options> curve{};
    // raw+tls only: the certificates of TLS (zpat/core/tls.hpp). A role binding raw+tls://
    // needs them; one connecting without them verifies the server against the system's trusted
    // authorities.
    std::optional<tls_options> tls{};
    // raw+tcp and raw+udp only: binding an address other than loopback (127.0.0.0/8, ::1,
    // localhost) is refused unless this says, knowingly, that plain, unauthenticated traffic may
    // come from beyond this machine. (raw+tls:// is the secure way there.)
    bool allow_insecure = false;
    // io_model::caller (by default, io_model::automatic, for a requester, service client or
    // service worker connecting to tcp:// without CURVE): a router, xpublisher or xsubscriber
    // binding tcp://, or a requester, service client or service worker connecting to tcp://,
    // does its socket I/O inside its own calls (receive, send, receive_subscription, request,
    // serve, a poller's wait on it), on the caller's thread, with zpat's own ZMTP 3.1 engine
    // instead of libzmq's I/O thread. A message it reads is routed and written with no hand-off
    // between threads, where each hand-off is a wakeup: what a broker's round trip is made of
    // (docs/performance.md); from such an xsubscriber to such an xpublisher, a relay passes
    // messages through as the wire encoded them. What a peer's socket does not take at once is
    // written as those calls come; a connecting role's connection is made, and made again,
    // inside its calls, and between them nothing is read (a worker answers its broker's
    // heartbeats while it waits for work, not while its handler runs). Its peers are any
    // ZeroMQ programs. Other roles and endpoints and CURVE refuse it (unsupported_error), as
    // does a router's send_timeout other than 0: a router does not wait to send, and drops at
    // send_high_water_mark as a ROUTER does; an xpublisher waits for room as its
    // block_when_full says.
    io_model io = io_model::automatic;
};

}  // namespace zpat
