#include "address_block.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>
#include <string>

namespace zpat::detail {

std::optional<address_block::parsed> address_block::parse_address(std::string_view text) {
    if (text.size() > INET6_ADDRSTRLEN) {
        return std::nullopt;
    }
    const std::string copy(text);
    parsed out;
    if (::inet_pton(AF_INET, copy.c_str(), out.bytes.data()) == 1) {
        return out;
    }
    std::array<unsigned char, 16> v6{};
    if (::inet_pton(AF_INET6, copy.c_str(), v6.data()) != 1) {
        return std::nullopt;
    }
    static constexpr std::array<unsigned char, 12> mapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(v6.data(), mapped.data(), mapped.size()) == 0) {
        std::memcpy(out.bytes.data(), v6.data() + mapped.size(), 4);  // ::ffff:a.b.c.d
        return out;
    }
    out.v6 = true;
    out.bytes = v6;
    return out;
}

std::optional<address_block> address_block::parse(std::string_view text) {
    const auto slash = text.find('/');
    const auto base = parse_address(text.substr(0, slash));
    if (!base) {
        return std::nullopt;
    }
    const unsigned bits = base->v6 ? 128 : 32;
    unsigned prefix = bits;
    if (slash != std::string_view::npos) {
        const std::string_view digits = text.substr(slash + 1);
        const auto [end, ec] =
            std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
        if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() ||
            prefix > bits) {
            return std::nullopt;
        }
    }
    address_block block;
    block.base_ = *base;
    block.prefix_ = prefix;
    return block;
}

bool address_block::contains(std::string_view address) const {
    const auto other = parse_address(address);
    if (!other || other->v6 != base_.v6) {
        return false;
    }
    const unsigned whole = prefix_ / 8;
    if (std::memcmp(other->bytes.data(), base_.bytes.data(), whole) != 0) {
        return false;
    }
    const unsigned rest = prefix_ % 8;
    if (rest == 0) {
        return true;
    }
    const auto mask = static_cast<unsigned char>(0xff << (8 - rest));
    return (other->bytes[whole] & mask) == (base_.bytes[whole] & mask);
}

}  // namespace zpat::detail
