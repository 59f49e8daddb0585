// The router role: the owner of whichever backend cell the endpoints select.

#include "zpat/router.hpp"

#include "seam/registry.hpp"

namespace zpat {

router::router(std::string_view endpoints, const options& opts) {
    auto [owner, list] = detail::resolve(endpoints, link::bind, opts, role_kind::router);
    impl_ = owner->make_router(list, opts);
}
router::~router() = default;
router::router(router&&) noexcept = default;
router& router::operator=(router&&) noexcept = default;

bool router::send(const message& msg) {
    return impl_->send(msg);
}
std::optional<message> router::receive(milliseconds timeout) {
    return detail::receive_new(*impl_, timeout);
}
bool router::receive(message& into, milliseconds timeout) {
    return impl_->receive(into, timeout);
}
std::uint64_t router::oversized_dropped() const noexcept {
    return impl_->oversized_dropped();
}
std::uint64_t router::unroutable() const noexcept {
    return impl_->unroutable();
}

const std::string& router::peer_key() const noexcept {
    return impl_->peer_key();
}
connection_counts router::connections() const {
    return impl_->connections();
}

std::vector<connection_info> router::open_connections() const {
    return impl_->open_connections();
}
const std::vector<std::string>& router::endpoints() const {
    return impl_->endpoints();
}
detail::poll_handle router::poll_handle() const {
    return impl_->handle();
}

}  // namespace zpat
