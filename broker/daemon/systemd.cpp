#include "systemd.hpp"

#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace zpat::broker::daemon::systemd {
namespace {

void notify(const std::string& state) {
    // A failure to reach the manager is not the broker's failure: nothing to do about it.
    (void)sd_notify(0, state.c_str());
}

}  // namespace

void ready(const std::string& status) {
    notify("READY=1\nSTATUS=" + status);
}

void reloading() {
    notify("RELOADING=1");
}

void stopping() {
    notify("STOPPING=1");
}

std::chrono::milliseconds watchdog_interval() {
    std::uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0) {
        return std::chrono::milliseconds{0};
    }
    return std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::microseconds{usec / 2});
}

void watchdog() {
    notify("WATCHDOG=1");
}

bool stderr_is_journal() {
    const char* stream = std::getenv("JOURNAL_STREAM");  // "DEVICE:INODE"
    struct stat err {};
    if (stream == nullptr || ::fstat(STDERR_FILENO, &err) != 0) {
        return false;
    }
    const std::string expected = std::to_string(err.st_dev) + ":" + std::to_string(err.st_ino);
    return std::string_view{stream} == expected;
}

}  // namespace zpat::broker::daemon::systemd
