#pragma once
// A fresh directory under the system's temporary one, removed with everything in it.

#include <unistd.h>

#include <filesystem>
#include <string>

namespace zpat::testing {

class temporary_directory {
  public:
    temporary_directory() {
        static int made = 0;
        path_ = std::filesystem::temp_directory_path() /
                ("zpat-test-" + std::to_string(::getpid()) + "-" + std::to_string(made++));
        std::filesystem::create_directories(path_);
    }
    ~temporary_directory() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    temporary_directory(const temporary_directory&) = delete;
    temporary_directory& operator=(const temporary_directory&) = delete;
    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
};

}  // namespace zpat::testing
