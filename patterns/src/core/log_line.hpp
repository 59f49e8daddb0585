#pragma once
// The library's one way to say something: through the sink set with zpat::set_log_sink.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace zpat::detail {

void log_line(std::string_view source, std::string_view what);

// Lines about what a peer can repeat at will (refusals, limits): at most one a second, and the
// next one said tells how many were held back meanwhile. Used by one thread at a time.
class throttled_log {
  public:
    void say(std::string_view source, std::string what) {
        const auto now = std::chrono::steady_clock::now();
        if (said_once_ && now - last_ < std::chrono::seconds(1)) {
            ++held_;
            return;
        }
        if (held_ != 0) {
            what += " (and " + std::to_string(held_) + " more since the last such line)";
        }
        log_line(source, what);
        said_once_ = true;
        last_ = now;
        held_ = 0;
    }

  private:
    std::chrono::steady_clock::time_point last_{};
    bool said_once_ = false;
    std::uint64_t held_ = 0;
};

}  // namespace zpat::detail
