#pragma once
// Address validation for raw+udp (docs/wire-format.md, section 5): a UDP source address can be
// forged, so a publisher or replier sends nothing larger than what it received to an address
// until that address has echoed a cookie sent there, as DTLS and QUIC do. A cookie is a keyed
// hash (SipHash-2-4) of the address under a secret drawn at start and replaced every minute;
// one made under the previous secret is still good, so a cookie lives one to two minutes and
// nothing is stored per address. Thread-safe.

#include <chrono>
#include <cstdint>
#include <mutex>

#include "udp.hpp"

namespace zpat::detail::udp {

class address_check {
  public:
    enum class verdict {
        good,   // made here for this address under the current secret
        renew,  // made here for this address under the previous secret: send a fresh one
        bad,    // not made here for this address, or older than two secrets
    };

    address_check();

    // The cookie that `to` must echo.
    std::uint64_t cookie_for(const channel::address& to);
    verdict check(const channel::address& from, std::uint64_t cookie);

  private:
    using clock_type = std::chrono::steady_clock;
    static constexpr auto secret_lifetime = std::chrono::seconds(60);
    static constexpr std::size_t key_size = 16;

    void rotate_if_due();  // with the mutex held
    static std::uint64_t hash(const channel::address& a, const unsigned char* key);

    std::mutex mutex_;
    unsigned char current_[key_size]{};
    unsigned char previous_[key_size]{};
    clock_type::time_point made_;
};

}  // namespace zpat::detail::udp
