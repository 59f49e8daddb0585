// make_test_certificates DIR: the TLS tests' certificates (test_certificates.hpp), for the
// Python interop tests, which have no way of their own to make them.

#include <cstdio>
#include <exception>

#include "test_certificates.hpp"

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: make_test_certificates DIR\n");
        return 2;
    }
    try {
        zpat::testing::make_test_certificates(argv[1]);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "make_test_certificates: %s\n", e.what());
        return 1;
    }
    return 0;
}
