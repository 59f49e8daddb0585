#pragma once
// The examples' only command-line handling: "--name value" pairs, with a default for each.

#include <string>
#include <string_view>

namespace example {

inline std::string flag(int argc, char** argv, std::string_view name, std::string fallback) {
    for (int i = 1; i + 1 < argc; ++i) {
        if (name == argv[i]) {
            return argv[i + 1];
        }
    }
    return fallback;
}

inline long flag(int argc, char** argv, std::string_view name, long fallback) {
    const std::string text = flag(argc, argv, name, std::string());
    return text.empty() ? fallback : std::stol(text);
}

// The side an example's role takes is part of its lesson, so an endpoint given without '@' or
// '>' gets the example's side, not the role's default.
inline std::string bind_to(const std::string& endpoint) {
    return endpoint.empty() || endpoint[0] == '@' || endpoint[0] == '>' ? endpoint : "@" + endpoint;
}
inline std::string connect_to(const std::string& endpoint) {
    return endpoint.empty() || endpoint[0] == '@' || endpoint[0] == '>' ? endpoint : ">" + endpoint;
}

}  // namespace example
