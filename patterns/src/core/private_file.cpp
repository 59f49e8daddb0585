#include "core/private_file.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace zpat::detail {

std::string private_file_problem(const std::filesystem::path& file) {
    struct stat info {};
    if (::stat(file.c_str(), &info) != 0) {
        return std::string("cannot be read: ") + std::strerror(errno);
    }
    if ((info.st_mode & (S_IRWXG | S_IRWXO)) == 0) {
        return {};
    }
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(info.st_mode & 07777));
    return std::string("holds a secret key but its permissions are ") + mode +
           ", open to others than its owner; make it private with: chmod 600 " + file.string();
}

}  // namespace zpat::detail
