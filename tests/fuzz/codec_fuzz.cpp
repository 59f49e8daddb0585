// libFuzzer target for zpat::unpack, the msgpack decoding of typed bodies (zpat/core/codec.hpp):
// what any peer may send a program that decodes its messages. For any bytes:
// - decoding never crashes, hangs or over-reads, and fails only with decode_error;
// - an object it accepts keeps every limit (depth, array and map sizes, string, binary and
//   extension lengths), and packs back to bytes that decode to the same encoding again;
// - what it allocates on the way is bounded by the input: at most `max_cost_per_byte` bytes
//   of heap for each byte of input (msgpack holds each element in a 24-byte object), plus a
//   fixed allowance, whatever lengths the input declares.
// The first byte picks tight limits or the defaults; the rest is the msgpack body.

#include <sanitizer/allocator_interface.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "fuzz_check.hpp"
#include "zpat/core/codec.hpp"

namespace {

constexpr std::size_t max_cost_per_byte = 48;
constexpr std::size_t fixed_allowance = 64 * 1024;

// Bytes of heap live now and the most since reset_peak(), from the sanitizer's malloc hooks.
std::size_t live = 0;
std::size_t peak = 0;
bool counting = false;

void on_malloc(const volatile void* /*ptr*/, std::size_t size) {
    if (counting) {
        live += size;
        peak = std::max(peak, live);
    }
}
void on_free(const volatile void* ptr) {
    if (counting && ptr != nullptr) {
        const std::size_t size = __sanitizer_get_allocated_size(const_cast<const void*>(ptr));
        live = size > live ? 0 : live - size;
    }
}

// Checks every object in `root` against `limits`, walking with a stack of its own so that
// nothing recurses in the depth of the input.
void within_limits(const msgpack::object& root, const zpat::decode_limits& limits) {
    std::vector<std::pair<const msgpack::object*, std::size_t>> todo{{&root, 1}};
    while (!todo.empty()) {
        const auto [object, depth] = todo.back();
        todo.pop_back();
        switch (object->type) {
            case msgpack::type::ARRAY:
                FUZZ_CHECK(depth <= limits.max_depth);  // containers nest at most max_depth deep
                FUZZ_CHECK(object->via.array.size <= limits.max_array);
                for (std::uint32_t i = 0; i < object->via.array.size; ++i) {
                    todo.emplace_back(&object->via.array.ptr[i], depth + 1);
                }
                break;
            case msgpack::type::MAP:
                FUZZ_CHECK(depth <= limits.max_depth);
                FUZZ_CHECK(object->via.map.size <= limits.max_map);
                for (std::uint32_t i = 0; i < object->via.map.size; ++i) {
                    todo.emplace_back(&object->via.map.ptr[i].key, depth + 1);
                    todo.emplace_back(&object->via.map.ptr[i].val, depth + 1);
                }
                break;
            case msgpack::type::STR:
                FUZZ_CHECK(object->via.str.size <= limits.max_string);
                break;
            case msgpack::type::BIN:
                FUZZ_CHECK(object->via.bin.size <= limits.max_string);
                break;
            case msgpack::type::EXT:
                FUZZ_CHECK(object->via.ext.size <= limits.max_string);
                break;
            default:
                break;
        }
    }
}

std::string packed(const msgpack::object& object) {
    msgpack::sbuffer buffer;
    msgpack::pack(buffer, object);
    return {buffer.data(), buffer.size()};
}

// Decoding as T either succeeds or fails with decode_error; anything else escapes and aborts.
template <class T>
void converts_or_refuses(std::string_view body, const zpat::decode_limits& limits) {
    try {
        (void)zpat::unpack<T>(body, limits);
    } catch (const zpat::decode_error&) {
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
    __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const zpat::decode_limits tight{
        .max_array = 16, .max_map = 16, .max_string = 64, .max_depth = 4};
    const zpat::decode_limits limits = data[0] % 2 == 0 ? tight : zpat::decode_limits{};
    const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);

    live = peak = 0;
    counting = true;
    std::optional<msgpack::object_handle> handle;
    try {
        handle = zpat::detail::unpack_object(body, limits);
    } catch (const zpat::decode_error&) {
    }
    counting = false;
    if (peak > max_cost_per_byte * body.size() + fixed_allowance) {
        std::fprintf(stderr, "codec_fuzz: %zu bytes of input cost %zu bytes of heap\n", body.size(),
                     peak);
    }
    FUZZ_CHECK(peak <= max_cost_per_byte * body.size() + fixed_allowance);
    if (!handle) {
        return 0;
    }
    within_limits(handle->get(), limits);
    const std::string once = packed(handle->get());
    const auto again = zpat::detail::unpack_object(once, zpat::decode_limits{});
    FUZZ_CHECK(packed(again.get()) == once);

    converts_or_refuses<std::map<std::string, std::vector<int>>>(body, limits);
    converts_or_refuses<std::vector<std::string>>(body, limits);
    converts_or_refuses<std::tuple<int, std::string, double>>(body, limits);
    converts_or_refuses<std::vector<std::uint64_t>>(body, limits);
    return 0;
}
