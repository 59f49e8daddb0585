#pragma once
// What zpat::poller waits on: a ZeroMQ socket handle or an operating-system descriptor.
// Opaque to applications; each role hands its own to the poller.

namespace zpat::detail {

struct poll_handle {
    void* zmq_socket = nullptr;
    int fd = -1;
};

}  // namespace zpat::detail
