#include "zpat/version.hpp"

namespace zpat {

std::string_view version() noexcept {
    return ZPAT_VERSION;  // from CMake's project(VERSION)
}

}  // namespace zpat
