#pragma once
// TLS from PEM files, for the command-line programs' raw+tls:// endpoints: the flags and the
// options::tls they make. With none of the flags: no TLS options (a raw+tls:// client then
// verifies the server against the system's trusted authorities).

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "curve_flags.hpp"
#include "zpat/core/tls.hpp"

namespace zpat::cli {

struct tls_flags {
    std::string certificate;
    std::string key;
    std::string ca;
    bool require_client_certificate = false;  // a server
    std::string server_name;                  // a client
};

// Adds --tls-cert, --tls-key and --tls-ca, and for a server --tls-require-client-cert, for a
// client --tls-server-name. `sides` as for CURVE: a broker is a server, `zpat stats` a client.
inline void add_tls_flags(CLI::App* app, tls_flags& tls, curve_sides sides) {
    const std::string group = "TLS on raw+tls:// endpoints (PEM files; see docs/security.md)";
    auto* cert = app->add_option("--tls-cert", tls.certificate,
                                 "This side's certificate chain: a server's, or a client's "
                                 "for a server that asks for one")
                     ->check(file_or_empty())
                     ->group(group);
    auto* key = app->add_option("--tls-key", tls.key,
                                "The private key of --tls-cert (readable by its owner only)")
                    ->check(file_or_empty())
                    ->group(group);
    cert->needs(key);
    key->needs(cert);
    auto* ca = app->add_option("--tls-ca", tls.ca,
                               sides == curve_sides::server
                                   ? "Verify client certificates against these authorities"
                                   : "Verify the peer against these authorities (a client "
                                     "without it uses the system's)")
                   ->check(file_or_empty())
                   ->group(group);
    if (sides != curve_sides::client) {
        app->add_flag("--tls-require-client-cert", tls.require_client_certificate,
                      "Refuse clients without a certificate from --tls-ca (mutual TLS)")
            ->needs(ca)
            ->group(group);
    }
    if (sides != curve_sides::server) {
        app->add_option("--tls-server-name", tls.server_name,
                        "The name the server's certificate must carry (default: the host "
                        "dialled)")
            ->group(group);
    }
}

// options::tls as `tls` asks for it; nullopt when no flag is given (empty values are unset
// ones, as a config file written by --check-config holds them).
inline std::optional<zpat::tls_options> tls_of(const tls_flags& tls) {
    if (tls.certificate.empty() && tls.key.empty() && tls.ca.empty() && tls.server_name.empty() &&
        !tls.require_client_certificate) {
        return std::nullopt;
    }
    return zpat::tls_options{.certificate = tls.certificate,
                             .private_key = tls.key,
                             .trusted_ca = tls.ca,
                             .require_client_certificate = tls.require_client_certificate,
                             .server_name = tls.server_name};
}

}  // namespace zpat::cli
