#pragma once
// A role whose I/O happens while it waits, on descriptors of its own (a router with
// io_model::caller, zmtp_router.hpp). A poller that watches such a role beside plain
// descriptors would first wait for the role's descriptor to be readable and then the role
// would wait again to learn which of its connections are; instead the poller hands it the other
// descriptors and it waits for them too, in its own wait.

#include <poll.h>

#include <cstdint>
#include <span>

#include "zpat/core/options.hpp"

namespace zpat::detail {

class waits_itself {
  public:
    // Waits up to `timeout` (forever: no limit), doing the I/O that comes, until the role has
    // a message to receive or one of `others` is readable. Sets each of `others`' revents as
    // poll(2) would. `generation` changes whenever the set of descriptors may have (a
    // descriptor closed and its number reused among them): the role then registers them
    // afresh. Returns whether the role has a message.
    virtual bool wait_beside(std::span<pollfd> others, std::uint64_t generation,
                             milliseconds timeout) = 0;

  protected:
    waits_itself() = default;
    ~waits_itself() = default;
    waits_itself(const waits_itself&) = default;
    waits_itself& operator=(const waits_itself&) = default;
};

}  // namespace zpat::detail
