#pragma once
// An IPv4 or IPv6 address block ("10.0.0.0/8", "::1", "192.0.2.7"), for the ZAP handler's
// address allow-list (curve_options::allowed_addresses).

#include <array>
#include <optional>
#include <string_view>

namespace zpat::detail {

class address_block {
  public:
    // The block `text` names: an address alone is a block of one. nullopt when it is not an
    // IPv4 or IPv6 address with an optional /PREFIX within the address's length.
    static std::optional<address_block> parse(std::string_view text);

    // Whether `address` (as libzmq gives it to ZAP: "127.0.0.1", "::1") is inside the block.
    // An IPv4 address written as IPv6 (::ffff:a.b.c.d) counts as the IPv4 one.
    bool contains(std::string_view address) const;

  private:
    struct parsed {
        bool v6 = false;
        std::array<unsigned char, 16> bytes{};
    };
    static std::optional<parsed> parse_address(std::string_view text);

    parsed base_;
    unsigned prefix_ = 0;  // leading bits that must match
};

}  // namespace zpat::detail
