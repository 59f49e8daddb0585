#pragma once
// A lower bound for a whole-number option, in a newcomer's words ("must be at least 1 (got 0)",
// "'ten' is not a whole number", "'1e30' is too large (at most 2147483647)"): CLI11's own
// PositiveNumber prints a range up to the largest double, 309 digits long. Shared by the zpat
// tool and the examples.

#include <CLI/CLI.hpp>
#include <charconv>
#include <limits>
#include <string>

namespace zpat::cli {

template <class Number>
CLI::Validator at_least(Number least) {
    return {[least](std::string& text) -> std::string {
                Number value{};
                const char* end = text.data() + text.size();
                const auto [stop, ec] = std::from_chars(text.data(), end, value);
                if (ec == std::errc::result_out_of_range) {
                    return "'" + text + "' is too large (at most " +
                           std::to_string(std::numeric_limits<Number>::max()) + ")";
                }
                if (ec != std::errc{} || stop != end) {
                    return "'" + text + "' is not a whole number";
                }
                if (value < least) {
                    return "must be at least " + std::to_string(least) + " (got " + text + ")";
                }
                return {};
            },
            least == 0   ? "NONNEGATIVE"
            : least == 1 ? "POSITIVE"
                         : ">= " + std::to_string(least)};
}

// The same, its type taken from the option's variable: at_least(settings.count, 1L).
template <class Number>
CLI::Validator at_least(const Number& /*option*/, Number least) {
    return at_least<Number>(least);
}

}  // namespace zpat::cli
