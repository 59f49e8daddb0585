#pragma once
// The optional HTTP view of the broker's counters: GET /stats (JSON) and GET /metrics
// (Prometheus text format), served by cpp-httplib on its own threads until destroyed.

#include <memory>
#include <string>

#include "zpat/broker/broker.hpp"

namespace zpat::broker {

class http_endpoint {
  public:
    // Listens on `host_port` ("127.0.0.1:9100"). Throws std::runtime_error when it cannot.
    http_endpoint(const std::string& host_port, const broker& source);
    ~http_endpoint();
    http_endpoint(const http_endpoint&) = delete;
    http_endpoint& operator=(const http_endpoint&) = delete;

  private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace zpat::broker
