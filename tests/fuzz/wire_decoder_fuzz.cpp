// libFuzzer target: the raw wire decoder must never crash, hang or over-read on any bytes, and
// whatever it accepts must re-encode to exactly the bytes it consumed.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "wire.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using zpat::detail::wire::decoder;
    std::string_view rest(reinterpret_cast<const char*>(data), size);
    decoder d(4096);
    zpat::message msg;
    while (!rest.empty()) {
        std::size_t used = 0;
        if (d.next(rest, msg, used) != decoder::status::message_ready) {
            break;
        }
        std::string again;
        zpat::detail::wire::encode(msg, again);
        if (again != rest.substr(0, used)) {
            std::abort();
        }
        rest.remove_prefix(used);
    }
    return 0;
}
