#pragma once
// zpat-broker's --allow-worker and --allow-caller: SERVICE=PATH entries, read into the service
// broker's permissions (service_config::workers_allowed and callers_allowed).

#include <map>
#include <string>
#include <vector>

namespace zpat::broker::daemon {

using permission_table = std::map<std::string, std::vector<std::string>, std::less<>>;

// Each entry is SERVICE=PATH: the service's name, or * for every service, and a public
// certificate or a directory of them (zpat/core/curve.hpp). Throws: std::invalid_argument naming
// the entry, for one with no '=', an empty service name, or a path whose certificates cannot
// be read.
permission_table read_permissions(const std::vector<std::string>& entries);

}  // namespace zpat::broker::daemon
