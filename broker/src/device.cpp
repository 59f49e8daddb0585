#include "device.hpp"

#include <spdlog/spdlog.h>

namespace zpat::broker::detail {

traffic traffic_counters::snapshot() const {
    return traffic{.messages_in = messages_in.get(),
                   .bytes_in = bytes_in.get(),
                   .messages_out = messages_out.get(),
                   .bytes_out = bytes_out.get(),
                   .dropped_full = dropped_full.get(),
                   .dropped_oversized = dropped_oversized.get(),
                   .dropped_malformed = dropped_malformed.get(),
                   .frontend_connections = {},  // the device adds its roles' own
                   .backend_connections = {}};
}

void add_connections(std::vector<device_connection>& into, const char* device, const char* side,
                     std::vector<connection_info> connections) {
    for (connection_info& c : connections) {
        into.push_back({device, side, std::move(c)});
    }
}

std::string bind_by_default(std::string_view endpoints) {
    std::string out;
    std::size_t start = 0;
    while (start <= endpoints.size()) {
        const std::size_t comma = std::min(endpoints.find(',', start), endpoints.size());
        std::string_view part = endpoints.substr(start, comma - start);
        while (!part.empty() && part.front() == ' ') {
            part.remove_prefix(1);
        }
        if (!out.empty() || start > 0) {
            out += ',';
        }
        if (!part.empty() && part.front() != '@' && part.front() != '>') {
            out += '@';
        }
        out += part;
        start = comma + 1;
    }
    return out;
}

void rate_limited_log::warn(const std::string& what) {
    const auto now = std::chrono::steady_clock::now();
    if (now < next_) {
        ++suppressed_;
        return;
    }
    if (suppressed_ > 0) {
        spdlog::warn("{} (and {} more {} in the last second)", what, suppressed_, kind_);
    } else {
        spdlog::warn("{}", what);
    }
    suppressed_ = 0;
    next_ = now + std::chrono::seconds{1};
}

}  // namespace zpat::broker::detail
