#pragma once
// TLS for zpat's raw wire format over TCP: endpoints written raw+tls://host:port carry the same
// frames as raw+tcp:// inside TLS 1.2 or 1.3 (OpenSSL), so that any TLS library (Python's `ssl`,
// for one) can take part; docs/wire-format.md shows how.
//
// A role that binds a raw+tls:// endpoint is the TLS server: it needs a certificate and its
// private key, and with trusted_ca it can verify (or, with require_client_certificate, demand)
// client certificates: mutual TLS. A role that connects is the client: it verifies the
// server's certificate against trusted_ca (or the system's trusted authorities when that is
// empty) and checks that the certificate names the host it dialled (or server_name). Files are
// PEM, as `openssl` writes them (docs/security.md).
//
// A failed handshake is counted in connections().refused and logged with the peer's address
// and OpenSSL's reason; a requester that the server refuses, or that refuses the server, throws
// security_error with that reason. raw+tcp://, raw+udp:// and ZeroMQ endpoints refuse these
// options by name: UDP has no TLS here, and ZeroMQ is secured with CURVE (curve.hpp).

#include <string>

namespace zpat {

struct tls_options {
    // This role's certificate chain (PEM, its own certificate first) and private key (PEM, a
    // file only its owner may read). A server must have both; a client gives them when the
    // server asks for client certificates.
    std::string certificate{};
    std::string private_key{};
    // Certificate authorities (PEM) to verify the peer against. A client with none uses the
    // system's (/etc/ssl/certs). A server with them verifies a client certificate when one is
    // offered.
    std::string trusted_ca{};
    // A server: refuse clients without a certificate from trusted_ca (mutual TLS).
    bool require_client_certificate = false;
    // A client: the name the server's certificate must carry (DNS name or IP address), and the
    // name sent in the handshake (SNI). Empty: the host of the endpoint dialled.
    std::string server_name{};
};

}  // namespace zpat
