#include "zpat/log.hpp"

#include <cstdio>
#include <mutex>
#include <string>
#include <utility>

#include "core/log_line.hpp"

namespace zpat {
namespace {

std::mutex sink_mutex;
log_sink& current_sink() {
    static log_sink sink;
    return sink;
}

}  // namespace

void set_log_sink(log_sink sink) {
    const std::lock_guard lock(sink_mutex);
    current_sink() = std::move(sink);
}

namespace detail {

void log_line(std::string_view source, std::string_view what) {
    log_sink sink;
    {
        const std::lock_guard lock(sink_mutex);
        sink = current_sink();  // called outside the lock: a sink may log through zpat itself
    }
    if (sink) {
        sink(source, what);
    } else {
        const std::string line = "zpat " + std::string(source) + ": " + std::string(what) + "\n";
        std::fputs(line.c_str(), stderr);  // one call, so lines from threads do not interleave
    }
}

}  // namespace detail
}  // namespace zpat
