#include "permissions.hpp"

#include <stdexcept>

#include "zpat/core/curve.hpp"
#include "zpat/core/error.hpp"

namespace zpat::broker::daemon {

permission_table read_permissions(const std::vector<std::string>& entries) {
    permission_table table;
    for (const std::string& entry : entries) {
        if (entry.empty()) {
            continue;  // unset, as --check-config prints it
        }
        const auto equals = entry.find('=');
        if (equals == std::string::npos || equals == 0 || equals + 1 == entry.size()) {
            throw std::invalid_argument("'" + entry +
                                        "' is not SERVICE=PATH (a service name or *, then a "
                                        "public certificate or a directory of them)");
        }
        try {
            std::vector<std::string>& keys = table[entry.substr(0, equals)];
            for (std::string& key : read_allowed_keys(entry.substr(equals + 1))) {
                keys.push_back(std::move(key));
            }
        } catch (const security_error& e) {
            throw std::invalid_argument("'" + entry + "': " + e.what());
        }
    }
    return table;
}

}  // namespace zpat::broker::daemon
