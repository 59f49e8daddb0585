#pragma once
// Throwaway certificates for the TLS tests and `zpat bench --secure` over raw TCP, made with
// OpenSSL's API into a directory: two authorities and, signed by the first, a server
// (localhost, 127.0.0.1, ::1), a client and an expired server; signed by the second, a
// stranger. Elliptic-curve keys (P-256), private keys mode 0600. Never for real use: a real
// deployment's certificates come from its own authority (docs/security.md).

#include <filesystem>

namespace zpat::testing {

struct test_certificates {
    std::filesystem::path ca;  // the authority everyone below trusts
    std::filesystem::path server, server_key;
    std::filesystem::path client, client_key;
    std::filesystem::path expired, expired_key;    // a server certificate that ended yesterday
    std::filesystem::path other_ca;                // an authority nobody trusts
    std::filesystem::path stranger, stranger_key;  // a client certificate from other_ca
};

// Writes the files into `dir` (ca.pem, server.pem, server.key, ...). Throws std::runtime_error.
test_certificates make_test_certificates(const std::filesystem::path& dir);

}  // namespace zpat::testing
