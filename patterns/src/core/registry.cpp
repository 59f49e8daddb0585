// The scheme-to-backend registry: the one place that interprets a scheme string.

#include <array>
#include <string>

#include "backend.hpp"
#include "zpat/core/error.hpp"

namespace zpat::detail {
namespace {

struct scheme_entry {
    std::string_view scheme;
    backend& (*owner)();
};

// ZeroMQ's own transports. A scheme not listed here is refused by name.
constexpr std::array<scheme_entry, 3> schemes{{
    {"tcp", zmq_backend},
    {"ipc", zmq_backend},
    {"inproc", zmq_backend},
}};

std::string known_schemes() {
    std::string list;
    for (const auto& entry : schemes) {
        list += (list.empty() ? "" : ", ") + std::string(entry.scheme) + "://";
    }
    return list;
}

backend& owner_of(const endpoint& ep) {
    for (const auto& entry : schemes) {
        if (entry.scheme == ep.scheme) {
            return entry.owner();
        }
    }
    throw endpoint_error("endpoint '" + ep.url() + "' has unknown scheme '" + ep.scheme +
                         "' (known: " + known_schemes() + ")");
}

}  // namespace

resolved_endpoints resolve(std::string_view text, link default_side) {
    resolved_endpoints result{nullptr, parse_endpoints(text, default_side)};
    for (const endpoint& ep : result.endpoints) {
        backend& owner = owner_of(ep);
        if (result.owner != nullptr && result.owner != &owner) {
            throw endpoint_error("endpoints '" + std::string(text) +
                                 "' mix backends; one role speaks one backend");
        }
        result.owner = &owner;
    }
    return result;
}

}  // namespace zpat::detail
