#include "udp_cookie.hpp"

#include <sodium.h>

#include <cstring>

#include "zpat/core/error.hpp"

namespace zpat::detail::udp {

static_assert(crypto_shorthash_KEYBYTES == 16 && crypto_shorthash_BYTES == 8);

address_check::address_check() : made_(clock_type::now()) {
    if (::sodium_init() < 0) {
        throw error("libsodium could not start, so raw+udp cannot make cookies");
    }
    ::randombytes_buf(current_, key_size);
    ::randombytes_buf(previous_, key_size);
}

std::uint64_t address_check::cookie_for(const channel::address& to) {
    std::lock_guard lock(mutex_);
    rotate_if_due();
    return hash(to, current_);
}

address_check::verdict address_check::check(const channel::address& from, std::uint64_t cookie) {
    std::lock_guard lock(mutex_);
    rotate_if_due();
    if (hash(from, current_) == cookie) {
        return verdict::good;
    }
    return hash(from, previous_) == cookie ? verdict::renew : verdict::bad;
}

void address_check::rotate_if_due() {
    const auto now = clock_type::now();
    if (now - made_ < secret_lifetime) {
        return;
    }
    // Skipping more than one lifetime leaves no secret whose cookies may still be out there.
    if (now - made_ >= 2 * secret_lifetime) {
        ::randombytes_buf(current_, key_size);
    }
    std::memcpy(previous_, current_, key_size);
    ::randombytes_buf(current_, key_size);
    made_ = now;
}

std::uint64_t address_check::hash(const channel::address& a, const unsigned char* key) {
    unsigned char out[crypto_shorthash_BYTES];
    ::crypto_shorthash(out, reinterpret_cast<const unsigned char*>(a.bytes.data()), a.bytes.size(),
                       key);
    std::uint64_t value = 0;
    std::memcpy(&value, out, sizeof value);
    return value;
}

}  // namespace zpat::detail::udp
