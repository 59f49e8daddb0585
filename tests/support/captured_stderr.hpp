#pragma once
// Captures what the process writes to stderr (zpat's log lines) while it lives, so that a test
// can check the reason a connection was closed. Not for concurrent use by two tests.

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace zpat::testing {

class captured_stderr {
  public:
    captured_stderr() {
        std::fflush(stderr);
        saved_ = ::dup(2);
        std::FILE* file = std::tmpfile();
        file_ = file;
        ::dup2(::fileno(file), 2);
    }
    ~captured_stderr() {
        std::fflush(stderr);
        ::dup2(saved_, 2);
        ::close(saved_);
        std::fclose(file_);
    }
    captured_stderr(const captured_stderr&) = delete;
    captured_stderr& operator=(const captured_stderr&) = delete;

    // Everything written so far.
    std::string text() const {
        std::fflush(stderr);
        std::string all;
        char buffer[4096];
        std::rewind(file_);
        while (const std::size_t n = std::fread(buffer, 1, sizeof buffer, file_)) {
            all.append(buffer, n);
        }
        return all;
    }

  private:
    int saved_ = -1;
    std::FILE* file_ = nullptr;
};

}  // namespace zpat::testing
