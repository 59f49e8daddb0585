#include "tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <array>
#include <filesystem>

#include "core/private_file.hpp"
#include "zpat/core/error.hpp"

namespace zpat::detail {
namespace {

// OpenSSL's most recent error on this thread, in words, and the queue cleared.
std::string openssl_reason() {
    const unsigned long code = ERR_peek_last_error();
    ERR_clear_error();
    if (code == 0) {
        return "no reason given";
    }
    std::array<char, 256> text{};
    ERR_error_string_n(code, text.data(), text.size());
    return text.data();
}

[[noreturn]] void refuse(std::string_view what, const std::string& file, std::string_view why) {
    throw security_error("TLS " + std::string(what) + " '" + file + "' " + std::string(why));
}

void check_readable(std::string_view what, const std::string& file) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) {
        refuse(what, file, ec ? "cannot be read: " + ec.message() : "is not a file");
    }
}

void load_identity(SSL_CTX* ctx, const tls_options& tls) {
    check_readable("certificate", tls.certificate);
    if (SSL_CTX_use_certificate_chain_file(ctx, tls.certificate.c_str()) != 1) {
        refuse("certificate", tls.certificate,
               "is not a PEM certificate chain (OpenSSL: " + openssl_reason() + ")");
    }
    if (const std::string problem = private_file_problem(tls.private_key); !problem.empty()) {
        refuse("private key", tls.private_key, problem);
    }
    const bool loaded =
        SSL_CTX_use_PrivateKey_file(ctx, tls.private_key.c_str(), SSL_FILETYPE_PEM) == 1;
    const bool mismatched = ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH;
    if (!loaded && !mismatched) {
        refuse("private key", tls.private_key,
               "is not a PEM private key (OpenSSL: " + openssl_reason() + ")");
    }
    if (mismatched || SSL_CTX_check_private_key(ctx) != 1) {
        ERR_clear_error();
        refuse("private key", tls.private_key,
               "does not belong to certificate '" + tls.certificate + "'");
    }
}

void load_authorities(SSL_CTX* ctx, const std::string& file) {
    check_readable("trusted CA file", file);
    if (SSL_CTX_load_verify_locations(ctx, file.c_str(), nullptr) != 1) {
        refuse("trusted CA file", file,
               "holds no PEM certificates (OpenSSL: " + openssl_reason() + ")");
    }
}

}  // namespace

std::shared_ptr<asio::ssl::context> make_tls_context(const tls_options& tls, bool server) {
    auto context = std::make_shared<asio::ssl::context>(server ? asio::ssl::context::tls_server
                                                               : asio::ssl::context::tls_client);
    SSL_CTX* ctx = context->native_handle();
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    if (!tls.certificate.empty()) {
        load_identity(ctx, tls);
    }
    if (server) {
        int mode = SSL_VERIFY_NONE;
        if (!tls.trusted_ca.empty()) {
            load_authorities(ctx, tls.trusted_ca);
            // Tells clients whose certificates will do.
            SSL_CTX_set_client_CA_list(ctx, SSL_load_client_CA_file(tls.trusted_ca.c_str()));
            mode = SSL_VERIFY_PEER |
                   (tls.require_client_certificate ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0);
        }
        SSL_CTX_set_verify(ctx, mode, nullptr);
    } else {
        if (tls.trusted_ca.empty()) {
            if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
                throw security_error("TLS: the system's trusted authorities cannot be loaded (" +
                                     openssl_reason() + "); name a CA file (--tls-ca)");
            }
        } else {
            load_authorities(ctx, tls.trusted_ca);
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    }
    ERR_clear_error();
    return context;
}

void expect_server(tls_stream& stream, const std::string& host) {
    SSL* ssl = stream.native_handle();
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    std::error_code not_address;
    (void)asio::ip::make_address(host, not_address);
    if (!not_address) {
        X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
        return;
    }
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
    SSL_set_tlsext_host_name(ssl, host.c_str());
}

std::string tls_failure(tls_stream& stream, std::error_code ec) {
    if (ec == asio::ssl::error::stream_truncated || ec == asio::error::eof) {
        return "the peer closed the connection during the handshake";
    }
    std::string words = ec.message();
    const long verified = SSL_get_verify_result(stream.native_handle());
    if (verified != X509_V_OK) {
        words += std::string(": ") + X509_verify_cert_error_string(verified);
    }
    return words;
}

}  // namespace zpat::detail
