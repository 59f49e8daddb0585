#pragma once
// The broker's benchmarks, run by bench.cpp's harness: pub-sub through zpat's forwarder against
// a bare libzmq XSUB/XPUB proxy (zmq_proxy), and Majordomo echo through zpat's service broker.

#include <string>

#include "bench.hpp"
#include "bench_result.hpp"

namespace zpat::bench {

// Publisher -> proxy -> subscriber, lossless, through a zmq_proxy process (this program started
// again as `zpat bench-proxy`) on libzmq tcp, or ipc.
result bare_proxy_pubsub(const settings& s, const std::string& payload);
// The same through a zpat-broker process's forwarder: bare libzmq ends on tcp, or plain raw-wire
// ends (plain_wire.hpp) on raw+tcp.
result broker_pubsub(const settings& s, const std::string& payload);
// The same through a plain relay process (`zpat bench-proxy --kind relay`) with plain raw-wire
// ends: the limit.
result relay_pubsub(const settings& s, const std::string& payload);

// Majordomo echo: p50 against a direct bare REQ/REP round trip, and requests per second with one
// and with four workers. Prints its own table; returns the exit code.
int run_mdp(const settings& s);

}  // namespace zpat::bench
