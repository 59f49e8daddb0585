#include "descriptors.hpp"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

namespace zpat::broker::daemon {

void raise_descriptor_limit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        return;
    }
    const rlim_t was = limit.rlim_cur;
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
            limit.rlim_cur = was;
        }
    }
    if (limit.rlim_cur != was) {
        spdlog::info("descriptor limit raised from {} to {}", was, limit.rlim_cur);
    } else {
        spdlog::info("descriptor limit {}", was);
    }
}

descriptor_watch::descriptor_watch() : listing_(::opendir("/proc/self/fd")) {}

descriptor_watch::~descriptor_watch() {
    if (listing_ != nullptr) {
        ::closedir(listing_);
    }
}

void descriptor_watch::check() {
    rlimit limit{};
    if (listing_ == nullptr || ::getrlimit(RLIMIT_NOFILE, &limit) != 0 ||
        limit.rlim_cur == RLIM_INFINITY) {
        return;
    }
    const std::size_t used = in_use();
    const auto now = std::chrono::steady_clock::now();
    if (used * 10 >= limit.rlim_cur * 8) {
        if (now >= next_warning_) {
            spdlog::warn(
                "{} descriptors in use of a limit of {}: at the limit new connections are "
                "refused (raise the hard limit: LimitNOFILE=, ulimit -Hn)",
                used, limit.rlim_cur);
            next_warning_ = now + std::chrono::minutes{1};
            warned_ = true;
        }
    } else if (warned_ && used * 10 < limit.rlim_cur * 7) {
        spdlog::info("{} descriptors in use of a limit of {}: below 70% again", used,
                     limit.rlim_cur);
        warned_ = false;
        next_warning_ = {};
    }
}

// The entries of /proc/self/fd, less ".", ".." and the listing's own.
std::size_t descriptor_watch::in_use() {
    ::rewinddir(listing_);
    std::size_t entries = 0;
    while (::readdir(listing_) != nullptr) {
        ++entries;
    }
    return entries > 3 ? entries - 3 : 0;
}

}  // namespace zpat::broker::daemon
