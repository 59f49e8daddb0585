#pragma once
// The benchmark behind `zpat bench`: each pattern measured through zpat and through bare cppzmq
// sockets of the same shape, in the same process, rounds interleaved, so that the ratio between
// the two is meaningful on a noisy machine.

#include <cstddef>
#include <string>

namespace zpat::bench {

// broker_pubsub: pub-sub through zpat's forwarder against zmq_proxy; broker_fanout and
// broker_fanin: the same with 1 publisher and 10 subscribers, and with 10 publishers, half of
// whose messages match the one subscriber's prefix; broker_mdp: Majordomo echo.
enum class pattern {
    pipeline,
    pubsub,
    reqrep,
    broker_pubsub,
    broker_fanout,
    broker_fanin,
    broker_mdp
};

// A fan shape: how many publishers and subscribers, and whether every other message goes to a
// topic nobody asked for.
struct fan_shape {
    int publishers = 1;
    int subscribers = 1;
    bool half_matching = false;
};

struct settings {
    pattern shape = pattern::pipeline;
    std::size_t message_size = 64;
    long count = 0;  // messages (round trips for reqrep) per round; 0: a default per pattern
    int rounds = 0;  // 0: a default per pattern
    std::string transport = "tcp";  // tcp, ipc or inproc
    bool show_rounds = false;       // print every round, not only the medians
    // Measure zpat with CURVE (a server and an allowed client; tcp or ipc) or with TLS
    // (raw+tcp measured as raw+tls, throwaway certificates) against zpat without security,
    // instead of zpat against bare libzmq: what security costs.
    bool secure = false;
    // Print one JSON object (the settings, both sides' figures and the ratios) instead of the
    // table, for comparing and plotting runs. Not for broker-mdp, which refuses it.
    bool json = false;
    // zpat-broker for the broker shapes; empty: next to this program, then on PATH.
    std::string broker_program;
    std::string proxy_kind = "zmq_proxy";  // `zpat bench-proxy` alone: what it runs
};

// Runs the benchmark and prints the table to stdout. Returns: 0, or 1 when a run lost messages
// it should not have (pipeline, request-reply) or timed out.
int run(const settings& settings);

// `zpat bench-proxy`, a process the benchmark measures from outside. "zmq_proxy": XSUB and XPUB
// (lossless) bound on `transport` ("tcp" or "ipc"; libzmq's tcp for raw+tcp), then zmq_proxy
// until SIGTERM. "relay": a plain relay of the raw wire over loopback TCP, one publisher to one
// subscriber. Each prints its endpoints on stdout first, as "frontend ENDPOINT" and "backend
// ENDPOINT". "rep" and "replier": request-reply's echoing end (reqrep_bench.hpp).
int run_proxy_process(const std::string& kind, const std::string& transport);

}  // namespace zpat::bench
