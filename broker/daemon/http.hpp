#pragma once
// The optional HTTP view of the broker: GET / (a live dashboard, daemon/dashboard.html), GET
// /stats (JSON), GET /metrics (Prometheus text format), GET /healthz (200 "ok", or 503 and why
// not), GET /varz, /subsz and /connz (varz.hpp), served by cpp-httplib on its own threads until
// destroyed.

#include <memory>
#include <string>

#include "varz.hpp"
#include "zpat/broker/broker.hpp"

namespace zpat::broker {

// "HOST:PORT" taken apart; the host may be empty (every address) or a bracketed IPv6 one.
struct http_address {
    std::string host;
    int port = 0;  // 0: any free port
};
// Throws std::invalid_argument naming what is wrong (no colon, a port that is not 0 to 65535).
http_address parse_http_address(const std::string& host_port);

// The token of --http-token-file: the file's first line. Throws std::invalid_argument naming
// what is wrong: a file that cannot be read, that its group or others may read, over 4 KiB, or
// a token under 16 characters or with characters other than printable ASCII.
std::string read_http_token(const std::string& file);

class http_endpoint {
  public:
    // Listens on `address`; an empty host means every address, IPv4 and IPv6. The port is the
    // broker's alone: a second broker asking for it fails, rather than sharing it. With a
    // `token`, every path but / (the page, which holds no numbers) and /healthz answers 401
    // unless the request carries "Authorization: Bearer TOKEN".
    // A client that sends half a request, or nothing, is closed after a second without a byte,
    // and one whose request has not arrived whole within three seconds, or is over 64 KiB, then;
    // 64 connections are served at once and 64 more wait, past which the listener waits.
    // Throws std::runtime_error when it cannot listen.
    http_endpoint(const http_address& address, const broker& source, server_info info,
                  std::string token = {});
    ~http_endpoint();
    http_endpoint(const http_endpoint&) = delete;
    http_endpoint& operator=(const http_endpoint&) = delete;

    // Where it listens, the port resolved ("127.0.0.1:43121", "[::]:9100").
    const std::string& url_authority() const noexcept { return authority_; }

  private:
    server_info info_;
    struct impl;
    std::unique_ptr<impl> impl_;
    std::string authority_;
};

}  // namespace zpat::broker
