#pragma once
// TLS for raw+tls:// (zpat/core/tls.hpp): the OpenSSL contexts a role's connections are made
// from, naming the server a client expects, and saying in words why a handshake failed.

#include <memory>
#include <string>
#include <system_error>

#include <asio/ip/tcp.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>

#include "zpat/core/tls.hpp"

namespace zpat::detail {

// A connection's TLS, owning its TCP socket: each connection has its own, so that what is left
// of a dropped one (an operation still finishing) never reads from the next.
using tls_stream = asio::ssl::stream<asio::ip::tcp::socket>;

// A context for the server side (a role's bind endpoints) or the client side (its connect
// endpoints): TLS 1.2 or later, the certificate and key, and whom to verify. Throws:
// security_error naming the file or setting that is wrong (a file that cannot be read, is not
// PEM, a key readable by others or not matching its certificate).
std::shared_ptr<asio::ssl::context> make_tls_context(const tls_options& tls, bool server);

// A client's stream: the server's certificate must name `host` (a DNS name or an IP address),
// which is also sent as the server name (SNI) when it is a name.
void expect_server(tls_stream& stream, const std::string& host);

// Why a handshake or a first read failed, in words: OpenSSL's reason and, when a certificate
// was not accepted, the verification's ("certificate has expired").
std::string tls_failure(tls_stream& stream, std::error_code ec);

}  // namespace zpat::detail
