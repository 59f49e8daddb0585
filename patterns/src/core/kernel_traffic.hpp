#pragma once
// What a TCP connection carried, as the kernel counts it (TCP_INFO): for the open connections of
// sockets that do not count per connection themselves (libzmq's, zpat's own ZMTP ones).

#include <optional>

#include "zpat/core/connection_info.hpp"

namespace zpat::detail {

// Bytes received, and bytes sent that the peer acknowledged, framing included; messages are not
// counted. nullopt when `fd` is not a TCP socket, or the kernel does not tell.
std::optional<connection_traffic> kernel_traffic(int fd);

}  // namespace zpat::detail
