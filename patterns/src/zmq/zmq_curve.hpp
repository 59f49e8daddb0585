#pragma once
// CURVE on a zpat ZeroMQ socket: the socket options of each side, and the process's ZAP handler
// (ZeroMQ RFC 27), which tells libzmq whether a CURVE client's key may connect.
//
// The handler is one thread, started with the first CURVE server and ended at exit, answering
// at inproc://zeromq.zap.01 in zpat's context. Each CURVE server socket gets a ZAP domain of its
// own, under which its allow-list is registered; a request for a domain nobody registered is
// refused, so the handler fails closed.

#include <memory>
#include <string>
#include <zmq.hpp>

#include "zpat/core/curve.hpp"

namespace zpat::detail {

// A CURVE server's allow-list in the ZAP handler, for as long as this lives.
class zap_registration {
  public:
    // Registers `curve` (a server's options) for a socket that `name` names in the log.
    zap_registration(const curve_options& curve, std::string name);
    ~zap_registration();
    zap_registration(const zap_registration&) = delete;
    zap_registration& operator=(const zap_registration&) = delete;

    // The ZAP domain the socket must set (ZMQ_ZAP_DOMAIN) before it binds or connects.
    const std::string& domain() const noexcept { return domain_; }

  private:
    std::string domain_;
};

// Checks `curve` as a role's options (option_error naming the field: a key that is not Z85, a
// secret key that does not belong to the public key, a server that would let nobody in without
// saying allow_any_client, a client with an allow-list). Returns true for a server.
bool check_curve(const curve_options& curve);

// Sets the CURVE options of `socket`: a server's key and ZAP domain, or a client's keys and the
// server's key.
void apply_curve(zmq::socket_t& socket, const curve_options& curve,
                 const zap_registration* registration);

}  // namespace zpat::detail
