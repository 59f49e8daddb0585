#pragma once
// CURVE from key files, as `zpat keygen` writes them, for the command-line programs: the flags
// and the options::curve they make. With none of the flags: no security.

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "zpat/core/curve.hpp"
#include "zpat/core/error.hpp"

namespace zpat::cli {

struct curve_flags {
    std::optional<std::string> secret;   // this side's secret certificate
    std::optional<std::string> server;   // a client: the server's public key or certificate
    std::vector<std::string> allow;      // a server: client certificates, or directories of them
    bool allow_any = false;              // a server: any client key (encrypted, not authenticated)
    std::vector<std::string> addresses;  // a server: client addresses or blocks it takes
};

// A file (or any path) that must exist, or empty: an unset flag, as a config file written by
// --check-config holds it.
inline CLI::Validator file_or_empty() {
    return {
        [](std::string& path) { return path.empty() ? std::string() : CLI::ExistingFile(path); },
        "FILE"};
}
inline CLI::Validator path_or_empty() {
    return {
        [](std::string& path) { return path.empty() ? std::string() : CLI::ExistingPath(path); },
        "PATH"};
}

// Which CURVE sides a program can take: a broker is a server, `zpat stats` a client.
enum class curve_sides { server, client, both };

// Adds --curve-secret, and for a server --curve-allow and --curve-allow-any, for a client
// --curve-server.
inline void add_curve_flags(CLI::App* app, curve_flags& curve, curve_sides sides) {
    const std::string group = "CURVE security (zpat keygen NAME writes NAME and NAME_secret)";
    auto* secret = app->add_option("--curve-secret", curve.secret,
                                   "This side's secret certificate (NAME_secret)")
                       ->check(file_or_empty())
                       ->group(group);
    CLI::Option* server = nullptr;
    if (sides != curve_sides::server) {
        server = app->add_option("--curve-server", curve.server,
                                 "Be a CURVE client of the server with this public certificate, "
                                 "or public key (40 characters of Z85)")
                     ->group(group);
    }
    if (sides == curve_sides::client) {
        return;
    }
    auto* allow = app->add_option("--curve-allow", curve.allow,
                                  "Be a CURVE server letting in the clients whose public "
                                  "certificates are this file or in this directory (repeatable)")
                      ->check(path_or_empty())
                      ->needs(secret)
                      ->group(group);
    auto* any = app->add_flag("--curve-allow-any", curve.allow_any,
                              "Be a CURVE server letting in any client key: encrypted, but "
                              "clients are not authenticated")
                    ->needs(secret)
                    ->group(group);
    auto* addresses = app->add_option("--curve-allow-address", curve.addresses,
                                      "Take CURVE clients only from this address or block, "
                                      "e.g. 10.0.0.0/8 (repeatable; the key is checked too)")
                          ->needs(secret)
                          ->group(group);
    if (server != nullptr) {
        server->excludes(allow)->excludes(any)->excludes(addresses);
    }
}

// options::curve as `curve` asks for it: none, a CURVE server or a CURVE client (a client with
// no --curve-secret gets a key pair of its own for the run). Throws: security_error for a key
// file that cannot be used, option_error for a server that would let nobody in. `sides` says
// which flags the program has, for the messages.
inline std::optional<zpat::curve_options> curve_of(curve_flags curve,
                                                   curve_sides sides = curve_sides::both) {
    // Empty values are unset ones, as a config file written by --check-config holds them.
    std::erase(curve.allow, "");
    std::erase(curve.addresses, "");
    for (std::optional<std::string>* value : {&curve.secret, &curve.server}) {
        if (*value && (*value)->empty()) {
            value->reset();
        }
    }
    if (!curve.secret && !curve.server && curve.allow.empty() && !curve.allow_any) {
        return std::nullopt;
    }
    if (!curve.server && curve.allow.empty() && !curve.allow_any) {
        throw option_error(sides == curve_sides::client
                               ? "--curve-secret needs --curve-server: the server's public key"
                               : "--curve-secret alone makes a CURVE server that lets no client "
                                 "in: add --curve-allow PATH (the clients' certificates) or "
                                 "--curve-allow-any" +
                                     std::string(sides == curve_sides::both
                                                     ? ", or, to be a client, --curve-server"
                                                     : ""));
    }
    zpat::curve_options made;
    if (curve.secret) {
        made.keys = read_curve_certificate(*curve.secret);
        if (made.keys.secret_key.empty()) {
            throw security_error("--curve-secret '" + *curve.secret +
                                 "' is a public certificate; give the one ending in _secret");
        }
    } else {
        made.keys = make_curve_keys();  // a client known by no key: for a server allowing any
    }
    if (curve.server) {
        made.server_key = is_curve_key(*curve.server)
                              ? *curve.server
                              : read_curve_certificate(*curve.server).public_key;
    }
    for (const std::string& path : curve.allow) {
        for (std::string& key : read_allowed_keys(path)) {
            made.allowed_clients.push_back(std::move(key));
        }
    }
    made.allow_any_client = curve.allow_any;
    made.allowed_addresses = curve.addresses;
    return made;
}

}  // namespace zpat::cli
