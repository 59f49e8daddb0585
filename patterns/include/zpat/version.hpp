#pragma once
// The version of the zpat library in use: the project's version, as CMake knows it.

#include <string_view>

namespace zpat {

// "major.minor.patch", e.g. "0.1.0".
std::string_view version() noexcept;

}  // namespace zpat
