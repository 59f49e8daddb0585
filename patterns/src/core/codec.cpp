#include "zpat/core/codec.hpp"

#include <algorithm>
#include <string>

namespace zpat::detail {
namespace {

const char* type_name(msgpack::type::object_type type) {
    switch (type) {
        case msgpack::type::NIL:
            return "nil";
        case msgpack::type::BOOLEAN:
            return "boolean";
        case msgpack::type::POSITIVE_INTEGER:
            return "positive integer";
        case msgpack::type::NEGATIVE_INTEGER:
            return "negative integer";
        case msgpack::type::FLOAT32:
            return "float32";
        case msgpack::type::FLOAT64:
            return "float64";
        case msgpack::type::STR:
            return "string";
        case msgpack::type::BIN:
            return "binary";
        case msgpack::type::ARRAY:
            return "array";
        case msgpack::type::MAP:
            return "map";
        case msgpack::type::EXT:
            return "extension";
    }
    return "unknown";
}

}  // namespace

msgpack::object_handle unpack_object(std::string_view bytes, const decode_limits& limits) {
    // Each element of a container takes at least one byte of input, so no honest object claims
    // more elements than there are bytes: capping by the input size bounds what msgpack allocates
    // by what the peer actually sent.
    const std::size_t input = bytes.size();
    const msgpack::unpack_limit limit(
        std::min(limits.max_array, input), std::min(limits.max_map, input),
        std::min(limits.max_string, input), std::min(limits.max_string, input),
        std::min(limits.max_string, input), limits.max_depth);
    std::size_t offset = 0;
    msgpack::object_handle handle;
    try {
        handle = msgpack::unpack(bytes.data(), bytes.size(), offset, nullptr, nullptr, limit);
    } catch (const msgpack::depth_size_overflow&) {
        throw decode_error("msgpack body nests deeper than " + std::to_string(limits.max_depth) +
                           " levels");
    } catch (const msgpack::size_overflow& e) {
        throw decode_error("msgpack body of " + std::to_string(input) +
                           " bytes declares a size over its limit (" + e.what() + ")");
    } catch (const msgpack::insufficient_bytes&) {
        throw decode_error("msgpack body of " + std::to_string(input) + " bytes is truncated");
    } catch (const msgpack::unpack_error& e) {
        throw decode_error(std::string("msgpack body is malformed: ") + e.what());
    }
    if (offset != input) {
        throw decode_error("msgpack body has " + std::to_string(input - offset) +
                           " trailing bytes after one complete object");
    }
    return handle;
}

void throw_type_mismatch(const msgpack::object& object) {
    throw decode_error(std::string("msgpack body holds a ") + type_name(object.type) +
                       ", which does not convert to the requested type");
}

}  // namespace zpat::detail
