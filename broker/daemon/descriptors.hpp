#pragma once
// The daemon's file descriptors: every connection takes one, and at the limit every new
// connection is refused, on every endpoint, while clients see only timeouts.

#include <dirent.h>

#include <chrono>
#include <cstddef>

namespace zpat::broker::daemon {

// Takes as many descriptors as the system lets this process have (the soft limit, often 1024,
// is a guard for select()-era programs), as nginx and nats-server do; logs the limit.
void raise_descriptor_limit();

// Warns while the descriptors in use are past 80% of the limit, at most once a minute, and says
// when use is back under 70%. It keeps /proc/self/fd open, since at the limit it could not open
// it to look.
class descriptor_watch {
  public:
    descriptor_watch();
    ~descriptor_watch();
    descriptor_watch(const descriptor_watch&) = delete;
    descriptor_watch& operator=(const descriptor_watch&) = delete;

    void check();

  private:
    std::size_t in_use();

    DIR* listing_;
    std::chrono::steady_clock::time_point next_warning_{};
    bool warned_ = false;
};

}  // namespace zpat::broker::daemon
