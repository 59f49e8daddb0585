#pragma once
// FUZZ_CHECK(condition): a promise a fuzz target checks. When it does not hold, the target says
// which line failed and aborts, and libFuzzer keeps the input that broke it.

#include <cstdio>
#include <cstdlib>

namespace zpat::fuzzing {

inline void check(bool condition, const char* file, int line) {
    if (!condition) {
        std::fprintf(stderr, "%s:%d: a fuzz target's check failed\n", file, line);
        std::abort();
    }
}

}  // namespace zpat::fuzzing

#define FUZZ_CHECK(condition) ::zpat::fuzzing::check((condition), __FILE__, __LINE__)
