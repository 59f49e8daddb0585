#pragma once
// Durations on the command line and in config files: "250ms", "2s", "1.5s", "1m", or a bare
// number of seconds. Shared by the zpat tool and the zpat-broker daemon (both use CLI11).

#include <CLI/CLI.hpp>
#include <charconv>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace zpat::cli {

using std::chrono::milliseconds;

// "250ms", "2s", "1.5s", "1m", or a bare number of seconds.
inline std::optional<milliseconds> parse_duration(const std::string& text) {
    double value = 0;
    const char* end = text.data() + text.size();
    auto [rest, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc{} || value < 0 || rest == text.data()) {
        return std::nullopt;
    }
    const std::string_view unit(rest, static_cast<std::size_t>(end - rest));
    double scale = 0;
    if (unit.empty() || unit == "s") {
        scale = 1000;
    } else if (unit == "ms") {
        scale = 1;
    } else if (unit == "m") {
        scale = 60000;
    } else {
        return std::nullopt;
    }
    return milliseconds(static_cast<long long>(value * scale));
}

// A CLI11 option holding a duration (into a milliseconds or an optional<milliseconds>); a bad
// value is rejected at parse time, naming the flag.
template <class Target>
CLI::Option* add_duration(CLI::App* app, const std::string& name, Target& target,
                          const std::string& help) {
    return app
        ->add_option_function<std::string>(
            name,
            [&target, name](const std::string& text) {
                auto parsed = parse_duration(text);
                if (!parsed) {
                    throw CLI::ValidationError(
                        name, "'" + text + "' is not a duration (e.g. 500ms, 2s, 1.5)");
                }
                target = *parsed;
            },
            help)
        ->type_name("DURATION");
}

}  // namespace zpat::cli
