#pragma once
// What a zpat::stream reports of its connections (zpat/stream.hpp).

#include <cstdint>
#include <string>

namespace zpat {

using stream_connection_id = std::uint64_t;

struct stream_event {
    enum class type { opened, data, closed };
    type what;
    stream_connection_id connection;
    std::string bytes;  // data only: never empty
};

}  // namespace zpat
