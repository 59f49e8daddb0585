#pragma once
// CURVE security for ZeroMQ endpoints: encryption with CurveZMQ (ZeroMQ RFC 26), and clients
// authenticated by their public keys through a ZAP handler inside zpat (RFC 27).
//
// A role is a CURVE server or a CURVE client, set by options::curve. A server holds its own
// key pair and the public keys of the clients it lets in; a client holds its own key pair and
// the server's public key. Keys are 40 characters of Z85 (RFC 32), as every ZeroMQ tool writes
// them, and can be kept in certificate files of the format CZMQ's zcert and pyzmq's zmq.auth
// write (ZPL, RFC 4), so keys made by those tools work here and the other way round.
//
// A server fails closed: one with no allowed clients is refused at construction unless
// allow_any_client says, in so many words, that any client key may connect. raw+tcp, raw+udp and
// inproc:// refuse CURVE by name (there is no ZeroMQ handshake to secure).

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace zpat {

struct curve_keys {
    std::string public_key{};  // 40 characters of Z85
    std::string secret_key{};  // 40 characters of Z85; empty when read from a public certificate
};

struct curve_options {
    // This role's key pair.
    curve_keys keys{};
    // A client: the server's public key. Empty: this role is a CURVE server.
    std::string server_key{};
    // A server: the public keys of the clients that may connect. Others are refused during
    // the handshake, counted in connections().refused and logged (with their address, never
    // their key); none of their messages reaches the role.
    std::vector<std::string> allowed_clients{};
    // A server: let any client key connect. Traffic is still encrypted, but clients are not
    // authenticated; logged as a warning each time such a role starts.
    bool allow_any_client = false;
    // A server: the client addresses it takes connections from, each an IPv4 or IPv6 address or
    // a block ("10.0.0.0/8", "fd00::/8"), checked beside the key. Empty: any address.
    std::vector<std::string> allowed_addresses{};
};

// A new key pair from libzmq (libsodium's random source).
curve_keys make_curve_keys();

// True when `key` is 40 characters of the Z85 alphabet: the form of a CURVE key in text.
bool is_curve_key(std::string_view key) noexcept;

// Reads a certificate file (ZPL): the `curve` section's public-key and, in a secret
// certificate, secret-key. A file that holds a secret key must not be readable by its group or
// by others. Throws: security_error naming the file (and line) for a file that cannot be read,
// is over 64 KiB, is not ZPL, has no valid public key, or is readable by others with a secret.
curve_keys read_curve_certificate(const std::filesystem::path& file);

// Writes `keys` as two certificates, as CZMQ does: `public_file` with the public key only
// (mode 0644), and `public_file` + "_secret" with both (mode 0600, created so: the secret is
// never readable by others, even for a moment). Throws: security_error when either exists
// already or cannot be written.
void write_curve_certificates(const std::filesystem::path& public_file, const curve_keys& keys);

// The client keys a server lets in: the public key of one certificate file, or of every
// certificate in a directory (its files ending in "_secret" are skipped, as CZMQ's certificate
// store does). Throws: security_error naming the file that cannot be read, or a directory with
// no certificate in it.
std::vector<std::string> read_allowed_keys(const std::filesystem::path& file_or_directory);

}  // namespace zpat
