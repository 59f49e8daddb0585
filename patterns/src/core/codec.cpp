#include "zpat/core/codec.hpp"

#include <algorithm>
#include <cstdint>
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

// What an object declares, counted before anything is built. msgpack allocates a container's
// elements when it reads the container's header, so a header of a few bytes declaring a
// million elements, nested 64 deep, would cost gigabytes before the input ran out. Every element
// takes at least one byte of input, so an honest object declares no more elements in all than
// the input has bytes; this refuses one that does, and so bounds what msgpack allocates by what
// the peer sent. No allocation, and no recursion: msgpack's parser keeps its own stack.
class declared_elements : public msgpack::null_visitor {
  public:
    declared_elements(std::size_t budget, std::size_t max_depth)
        : left_(budget), max_depth_(max_depth) {}

    bool start_array(std::uint32_t elements) { return spend(elements) && enter(); }
    bool end_array() { return leave(); }
    bool start_map(std::uint32_t pairs) { return spend(2 * std::uint64_t{pairs}) && enter(); }
    bool end_map() { return leave(); }

    bool over_budget() const noexcept { return over_budget_; }
    bool too_deep() const noexcept { return too_deep_; }

  private:
    bool spend(std::uint64_t elements) {
        over_budget_ = elements > left_;
        left_ -= over_budget_ ? 0 : elements;
        return !over_budget_;
    }
    bool enter() {
        too_deep_ = ++depth_ > max_depth_;
        return !too_deep_;
    }
    bool leave() {
        --depth_;
        return true;
    }

    std::uint64_t left_;
    std::size_t max_depth_;
    std::size_t depth_ = 0;
    bool over_budget_ = false;
    bool too_deep_ = false;
};

}  // namespace

msgpack::object_handle unpack_object(std::string_view bytes, const decode_limits& limits) {
    const std::size_t input = bytes.size();
    declared_elements declared(input, limits.max_depth);
    std::size_t scanned = 0;
    msgpack::parse(bytes.data(), bytes.size(), scanned, declared);
    if (declared.too_deep()) {
        throw decode_error("msgpack body nests deeper than " + std::to_string(limits.max_depth) +
                           " levels");
    }
    if (declared.over_budget()) {
        throw decode_error("msgpack body of " + std::to_string(input) +
                           " bytes declares more elements than it could hold");
    }
    // The same reasoning for each container and string alone: none is larger than the input.
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
