#pragma once
// What zpat::poller waits on. Opaque: each role hands its own to the poller, and the backend
// that made it is the only code that reads it (for ZeroMQ roles, the socket the poller passes
// to zmq_poll; for the raw backend, a descriptor that is readable while messages wait).

namespace zpat::detail {

class waits_itself;  // a role that does its I/O while it waits (patterns/src/core)

class poll_handle {
  public:
    // A descriptor, readable while the role has something to receive.
    static poll_handle descriptor(int fd) noexcept { return {nullptr, fd, nullptr}; }
    // A backend's own socket object, which its poller knows how to wait on.
    static poll_handle backend_socket(void* socket) noexcept { return {socket, -1, nullptr}; }
    // A role with a descriptor as above, which can also wait for the poller's other
    // descriptors itself: one wait where there would be two.
    static poll_handle waiting_itself(waits_itself& role, int fd) noexcept {
        return {nullptr, fd, &role};
    }

    void* socket() const noexcept { return socket_; }
    int fd() const noexcept { return fd_; }
    waits_itself* waiter() const noexcept { return waiter_; }
    friend bool operator==(const poll_handle&, const poll_handle&) = default;

  private:
    poll_handle(void* socket, int fd, waits_itself* waiter) noexcept
        : socket_(socket), fd_(fd), waiter_(waiter) {}
    void* socket_;
    int fd_;
    waits_itself* waiter_;
};

}  // namespace zpat::detail
