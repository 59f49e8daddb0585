#include "zpat/core/endpoint.hpp"

#include <algorithm>

#include "zpat/core/error.hpp"

namespace zpat {
namespace {

bool is_scheme_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
}

endpoint parse_one(std::string_view text, std::string_view whole, link default_side) {
    endpoint result;
    result.side = default_side;
    std::string_view rest = text;
    if (!rest.empty() && (rest.front() == '@' || rest.front() == '>')) {
        result.side = rest.front() == '@' ? link::bind : link::connect;
        rest.remove_prefix(1);
    }
    const auto separator = rest.find("://");
    if (rest.empty()) {
        throw endpoint_error("empty endpoint in '" + std::string(whole) + "'");
    }
    if (separator == std::string_view::npos) {
        throw endpoint_error(
            "endpoint '" + std::string(text) +
            "' has no scheme: expected scheme://address, e.g. tcp://127.0.0.1:5555");
    }
    const std::string_view scheme = rest.substr(0, separator);
    if (scheme.empty() || !std::all_of(scheme.begin(), scheme.end(), is_scheme_char)) {
        throw endpoint_error("endpoint '" + std::string(text) + "' has a malformed scheme '" +
                             std::string(scheme) + "'");
    }
    result.scheme = scheme;
    result.address = rest.substr(separator + 3);
    if (result.address.empty()) {
        throw endpoint_error("endpoint '" + std::string(text) + "' has no address after '://'");
    }
    return result;
}

}  // namespace

std::vector<endpoint> parse_endpoints(std::string_view text, link default_side) {
    std::vector<endpoint> result;
    std::string_view rest = text;
    for (;;) {
        const auto comma = rest.find(',');
        result.push_back(parse_one(rest.substr(0, comma), text, default_side));
        if (comma == std::string_view::npos) {
            return result;
        }
        rest.remove_prefix(comma + 1);
    }
}

}  // namespace zpat
