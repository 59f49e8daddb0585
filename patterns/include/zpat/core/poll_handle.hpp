#pragma once
// What zpat::poller waits on. Opaque: each role hands its own to the poller, and the backend
// that made it is the only code that reads it (for ZeroMQ roles, the socket the poller passes
// to zmq_poll; for the raw backend, a descriptor that is readable while messages wait).

namespace zpat::detail {

class poll_handle {
  public:
    // A descriptor, readable while the role has something to receive.
    static poll_handle descriptor(int fd) noexcept { return {nullptr, fd}; }
    // A backend's own socket object, which its poller knows how to wait on.
    static poll_handle backend_socket(void* socket) noexcept { return {socket, -1}; }

    void* socket() const noexcept { return socket_; }
    int fd() const noexcept { return fd_; }
    friend bool operator==(const poll_handle&, const poll_handle&) = default;

  private:
    poll_handle(void* socket, int fd) noexcept : socket_(socket), fd_(fd) {}
    void* socket_;
    int fd_;
};

}  // namespace zpat::detail
