#include "kernel_traffic.hpp"

#include <linux/tcp.h>  // struct tcp_info with the byte counts (glibc's lacks them)
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>

namespace zpat::detail {

std::optional<connection_traffic> kernel_traffic(int fd) {
    tcp_info info{};
    socklen_t size = sizeof info;
    if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &size) != 0 ||
        size < offsetof(tcp_info, tcpi_bytes_received) + sizeof info.tcpi_bytes_received) {
        return std::nullopt;
    }
    return connection_traffic{.messages_in = std::nullopt,
                              .bytes_in = info.tcpi_bytes_received,
                              .messages_out = std::nullopt,
                              .bytes_out = info.tcpi_bytes_acked};
}

}  // namespace zpat::detail
