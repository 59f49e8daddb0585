// The dealer role: the owner of whichever backend cell the endpoints select.

#include "zpat/dealer.hpp"

#include "seam/registry.hpp"

namespace zpat {

dealer::dealer(std::string_view endpoints, const options& opts) {
    auto [owner, list] = detail::resolve(endpoints, link::connect, opts, role_kind::dealer);
    impl_ = owner->make_dealer(list, opts);
}
dealer::~dealer() = default;
dealer::dealer(dealer&&) noexcept = default;
dealer& dealer::operator=(dealer&&) noexcept = default;

bool dealer::send(const message& msg) {
    return impl_->send(msg);
}
std::optional<message> dealer::receive(milliseconds timeout) {
    return detail::receive_new(*impl_, timeout);
}
bool dealer::receive(message& into, milliseconds timeout) {
    return impl_->receive(into, timeout);
}
std::uint64_t dealer::oversized_dropped() const noexcept {
    return impl_->oversized_dropped();
}
const std::vector<std::string>& dealer::endpoints() const {
    return impl_->endpoints();
}
connection_counts dealer::connections() const {
    return impl_->connections();
}
std::vector<connection_info> dealer::open_connections() const {
    return impl_->open_connections();
}
detail::poll_handle dealer::poll_handle() const {
    return impl_->handle();
}

}  // namespace zpat
