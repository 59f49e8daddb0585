#pragma once
// The detail pages of the HTTP view, named as nats-server names its own: /varz (the server:
// version, uptime, memory, descriptors, open connections and the settings in effect) and
// /subsz (the forwarder's subscriptions) and /connz (every connection), each one JSON object.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "zpat/broker/broker.hpp"

namespace zpat::broker {

struct server_info {
    std::string config;  // the settings in effect, as --check-config prints them (TOML)
    std::chrono::system_clock::time_point started = std::chrono::system_clock::now();
};

// What the HTTP endpoint itself did to its clients (http_guard.hpp).
struct http_counts {
    std::uint64_t connections_cut = 0;  // closed past a request's or answer's deadline or size
};

std::string varz_json(const stats& s, const server_info& info, const http_counts& http);
// Returns an empty string when no forwarder runs.
std::string subsz_json(const stats& s);
// /connz: the connections of every device, `limit` of them from the `offset`th on, with the
// total; each with its device, side, peer, endpoint, peer role, since when and traffic (null
// for what is not counted: messages on ZeroMQ, everything over ZeroMQ's ipc://).
std::string connz_json(const std::vector<device_connection>& all, std::size_t offset,
                       std::size_t limit);

}  // namespace zpat::broker
