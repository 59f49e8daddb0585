#pragma once
// The library's one way to say something: through the sink set with zpat::set_log_sink.

#include <string_view>

namespace zpat::detail {

void log_line(std::string_view source, std::string_view what);

}  // namespace zpat::detail
