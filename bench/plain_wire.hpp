#pragma once
// Peers of the raw wire format (docs/wire-format.md) written on nothing but POSIX sockets, and
// a plain relay between them: what the kernel and the least a relay must do (find every message's
// end, write the whole ones on) cost, which is the limit a broker's forwarding is measured
// against. The ends pre-encode their messages and write them in batches, so that they are never
// what is measured.

#include <string>

#include "bench_result.hpp"
#include "child_process.hpp"

namespace zpat::bench {

struct settings;
struct fan_shape;

// Streams s.count messages ("topic", payload) from a plain publisher connected to `frontend`
// to a plain subscriber (subscribed to everything) connected to `backend`, through `middle`,
// whose CPU time over the window goes into the result. Endpoints are raw+tcp://host:port.
result plain_ends(const settings& s, const std::string& payload, const child_process& middle,
                  const std::string& frontend, const std::string& backend);

// A fan shape over the raw wire: f.publishers plain publishers share s.count messages, and
// f.subscribers plain subscribers want the topic "match"; with f.half_matching, every other
// message of each publisher is on "other", which nobody wants.
result plain_fan_ends(const settings& s, const fan_shape& f, const std::string& payload,
                      const child_process& middle, const std::string& frontend,
                      const std::string& backend);

// `zpat bench-proxy --kind relay`: listens on two loopback ports, prints "frontend ENDPOINT" and
// "backend ENDPOINT", takes one publisher (subscribing it to everything) and one subscriber,
// then relays whole messages from the one to the other until the publisher leaves.
int run_relay_process();

}  // namespace zpat::bench
