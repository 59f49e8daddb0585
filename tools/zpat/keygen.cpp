// zpat keygen: a new CURVE key pair as two certificate files.

#include <iostream>

#include "verbs.hpp"
#include "zpat/core/curve.hpp"

namespace zpat::cli {

int run_keygen(const std::string& name) {
    const curve_keys keys = make_curve_keys();
    write_curve_certificates(name, keys);
    std::cerr << "zpat keygen: wrote " << name << " (public, give it to peers) and " << name
              << "_secret (private, mode 0600)\n";
    std::cout << keys.public_key << "\n";
    return 0;
}

}  // namespace zpat::cli
