#include "test_certificates.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>

namespace zpat::testing {
namespace {

namespace fs = std::filesystem;

using key_ptr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using cert_ptr = std::unique_ptr<X509, decltype(&X509_free)>;

void require(bool ok, const char* what) {
    if (!ok) {
        throw std::runtime_error(std::string("making test certificates: ") + what);
    }
}

key_ptr new_key() {
    key_ptr key(EVP_EC_gen("P-256"), EVP_PKEY_free);
    require(key != nullptr, "EVP_EC_gen");
    return key;
}

void add_extension(X509* cert, X509* issuer, int nid, const char* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    require(ext != nullptr, "X509V3_EXT_conf_nid");
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

struct certificate_request {
    const char* common_name = "";
    bool authority = false;
    const char* alt_names = nullptr;  // "DNS:localhost,IP:127.0.0.1"
    long starts = -3600;              // seconds from now
    long ends = 86400;
};

// A certificate for `key`, signed by `issuer` (itself when null) with `issuer_key`.
cert_ptr make_certificate(const certificate_request& request, EVP_PKEY* key, X509* issuer,
                          EVP_PKEY* issuer_key) {
    static long serial = 1;
    cert_ptr cert(X509_new(), X509_free);
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), request.starts);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), request.ends);
    X509_set_pubkey(cert.get(), key);
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(request.common_name), -1, -1,
                               0);
    X509* signer = issuer != nullptr ? issuer : cert.get();
    X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
    if (request.authority) {
        add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
        add_extension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    }
    if (request.alt_names != nullptr) {
        add_extension(cert.get(), signer, NID_subject_alt_name, request.alt_names);
    }
    require(X509_sign(cert.get(), issuer_key, EVP_sha256()) > 0, "X509_sign");
    return cert;
}

void write_certificate(const fs::path& file, X509* cert) {
    FILE* out = std::fopen(file.c_str(), "w");
    require(out != nullptr, "fopen");
    const bool ok = PEM_write_X509(out, cert) == 1;
    std::fclose(out);
    require(ok, "PEM_write_X509");
}

void write_key(const fs::path& file, EVP_PKEY* key) {
    FILE* out = std::fopen(file.c_str(), "w");
    require(out != nullptr, "fopen");
    const bool ok = PEM_write_PrivateKey(out, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
    std::fclose(out);
    require(ok, "PEM_write_PrivateKey");
    fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
}

}  // namespace

test_certificates make_test_certificates(const fs::path& dir) {
    test_certificates made{.ca = dir / "ca.pem",
                           .server = dir / "server.pem",
                           .server_key = dir / "server.key",
                           .client = dir / "client.pem",
                           .client_key = dir / "client.key",
                           .expired = dir / "expired.pem",
                           .expired_key = dir / "expired.key",
                           .other_ca = dir / "other-ca.pem",
                           .stranger = dir / "stranger.pem",
                           .stranger_key = dir / "stranger.key"};
    const auto ca_key = new_key();
    const auto ca = make_certificate({.common_name = "zpat test CA", .authority = true},
                                     ca_key.get(), nullptr, ca_key.get());
    write_certificate(made.ca, ca.get());

    const auto issue = [&](const certificate_request& request, const fs::path& cert_file,
                           const fs::path& key_file, X509* issuer, EVP_PKEY* issuer_key) {
        const auto key = new_key();
        const auto cert = make_certificate(request, key.get(), issuer, issuer_key);
        write_certificate(cert_file, cert.get());
        write_key(key_file, key.get());
    };
    const char* here = "DNS:localhost,IP:127.0.0.1,IP:::1";
    issue({.common_name = "localhost", .alt_names = here}, made.server, made.server_key, ca.get(),
          ca_key.get());
    issue({.common_name = "zpat test client"}, made.client, made.client_key, ca.get(),
          ca_key.get());
    issue({.common_name = "localhost", .alt_names = here, .starts = -172800, .ends = -86400},
          made.expired, made.expired_key, ca.get(), ca_key.get());

    const auto other_key = new_key();
    const auto other = make_certificate({.common_name = "an untrusted CA", .authority = true},
                                        other_key.get(), nullptr, other_key.get());
    write_certificate(made.other_ca, other.get());
    issue({.common_name = "a stranger"}, made.stranger, made.stranger_key, other.get(),
          other_key.get());
    return made;
}

}  // namespace zpat::testing
