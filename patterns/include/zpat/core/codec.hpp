#pragma once
// Typed message bodies, encoded with msgpack. Opt-in: a frame is bytes until you decode it.
//
//   msg.push_back(zpat::pack(reading{...}));       // any type msgpack-c can encode
//   auto r = zpat::unpack<reading>(msg[1]);         // throws zpat::decode_error on bad input
//
// Decoding treats its input as untrusted: container and string sizes are capped (by the limits
// and by the input size itself, since every element costs at least one byte) before msgpack
// allocates anything, and nesting depth is bounded.

#include <cstddef>
#include <string>
#include <string_view>

#ifndef MSGPACK_NO_BOOST
#define MSGPACK_NO_BOOST
#endif
#include <msgpack.hpp>

#include "zpat/core/error.hpp"

namespace zpat {

struct decode_limits {
    std::size_t max_array = 1U << 20;
    std::size_t max_map = 1U << 20;
    std::size_t max_string = std::size_t{16} * 1024 * 1024;
    std::size_t max_depth = 64;
};

namespace detail {
// Parses `bytes` as exactly one msgpack object. Throws: decode_error.
msgpack::object_handle unpack_object(std::string_view bytes, const decode_limits& limits);
[[noreturn]] void throw_type_mismatch(const msgpack::object& object);
}  // namespace detail

// Returns the msgpack encoding of `value`.
template <class T>
std::string pack(const T& value) {
    msgpack::sbuffer buffer;
    msgpack::pack(buffer, value);
    return std::string(buffer.data(), buffer.size());
}

// Decodes `bytes` as a T. Throws: decode_error when the bytes are not one well-formed msgpack
// object within `limits`, or the object does not convert to T.
template <class T>
T unpack(std::string_view bytes, const decode_limits& limits = {}) {
    const msgpack::object_handle handle = detail::unpack_object(bytes, limits);
    try {
        return handle.get().as<T>();
    } catch (const msgpack::type_error&) {
        detail::throw_type_mismatch(handle.get());
    }
}

}  // namespace zpat
