#pragma once
// The registry and the checks every backend shares.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "seam/backend.hpp"
#include "zpat/core/endpoint.hpp"
#include "zpat/core/message.hpp"
#include "zpat/core/options.hpp"

namespace zpat::detail {

// The registry: the only code that maps a scheme to a backend. Parses `text` (with
// `default_side` where no '@' or '>' is given) and returns the backend that owns every endpoint
// in it. Throws: endpoint_error for a parse error, an unknown scheme, or a list that mixes
// backends.
struct resolved_endpoints {
    const backend* owner;
    std::vector<endpoint> endpoints;
};
resolved_endpoints resolve(std::string_view text, link default_side);
// The same for `role` about to be made with `opts`, which are checked first. Throws also:
// option_error naming a field out of its range, unsupported_error for options the role does
// not take there (options::io, io_model::caller, beyond a router binding tcp://).
resolved_endpoints resolve(std::string_view text, link default_side, const options& opts,
                           role_kind role);

// Throws endpoint_error unless the address is host:port (a wildcard host or port only on bind).
// The registry applies it to the schemes whose addresses take that form.
void check_host_port(const endpoint& ep);

// The message of a bind that failed with `error` (an errno value): the reason, and for the
// mistakes a newcomer makes a hint of what to write instead.
std::string bind_failure(const endpoint& ep, int error, std::string_view reason);

// Throws state_error for a message with no frames and message_size_error for one over
// max_message_size bytes or max_message_frames frames, naming both sizes: what no backend may
// send. Inline, as it runs on every send; the throwing is apart.
[[noreturn]] void refuse_unsendable(const message& msg, const options& opts);
inline void check_sendable(const message& msg, const options& opts) {
    if (msg.empty() || msg.byte_size() > opts.max_message_size ||
        msg.size() > opts.max_message_frames) {
        refuse_unsendable(msg, opts);
    }
}

// The relay for `from` and `to`: the backend's own where it has one for that pair, otherwise
// one that receives each message and sends it again.
std::unique_ptr<relay_impl> make_relay(receiver_impl& from, sender_impl& to);

// Backends, defined in their own folders.
const backend& zmq_backend();
const backend& raw_tcp_backend();
const backend& raw_tls_backend();
const backend& raw_udp_backend();

}  // namespace zpat::detail
