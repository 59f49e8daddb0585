// Pipeline receiver on raw TCP: messages from every connected pusher in order of arrival; a
// pusher whose messages we cannot keep up with is paused at the high-water mark.

#include "raw_cells.hpp"

namespace zpat::detail {

std::unique_ptr<receiver_impl> make_raw_puller(const std::vector<endpoint>& endpoints,
                                               const options& opts) {
    return std::make_unique<raw_receiving_cell<receiver_impl>>(wire::role::puller, endpoints, opts);
}

}  // namespace zpat::detail
