#pragma once
// Request-reply with the replier in a process of its own, as requesters and repliers run: this
// program started again as `zpat bench-proxy --kind rep` (bare libzmq) or `--kind replier`
// (zpat). In one process the two ends and their I/O threads share one scheduler's placement,
// which moved the bare baseline's p50 by 10% from run to run on two cores; apart, the two sides
// make the same system calls and context switches per round trip and their figures hold still.

#include <string>

#include "bench.hpp"
#include "bench_result.hpp"

namespace zpat::bench {

// A bare REQ socket against a bare REP process, over tcp or ipc (libzmq's tcp for raw+tcp).
result bare_reqrep_apart(const settings& s, const std::string& payload);
// A zpat requester against a zpat replier process, over tcp, ipc or raw+tcp.
result zpat_reqrep_apart(const settings& s, const std::string& payload);

// `zpat bench-proxy --kind rep|replier`: an echo replier bound on `transport` until SIGTERM.
// Prints "endpoint ENDPOINT" first.
int run_replier_process(const std::string& kind, const std::string& transport);

}  // namespace zpat::bench
