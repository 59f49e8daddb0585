// The pipeline roles: owners of whichever backend cell the endpoints select.

#include "zpat/pipeline.hpp"
#include "seam/registry.hpp"

namespace zpat {

pusher::pusher(std::string_view endpoints, const options& opts) {
    auto [owner, list] = detail::resolve(endpoints, link::connect, opts, role_kind::pusher);
    impl_ = owner->make_pusher(list, opts);
}
pusher::~pusher() = default;
pusher::pusher(pusher&&) noexcept = default;
pusher& pusher::operator=(pusher&&) noexcept = default;

bool pusher::send(const message& msg) {
    return impl_->send(msg);
}
const std::vector<std::string>& pusher::endpoints() const {
    return impl_->endpoints();
}

connection_counts pusher::connections() const {
    return impl_->connections();
}

std::vector<connection_info> pusher::open_connections() const {
    return impl_->open_connections();
}

puller::puller(std::string_view endpoints, const options& opts) {
    auto [owner, list] = detail::resolve(endpoints, link::bind, opts, role_kind::puller);
    impl_ = owner->make_puller(list, opts);
}
puller::~puller() = default;
puller::puller(puller&&) noexcept = default;
puller& puller::operator=(puller&&) noexcept = default;

std::optional<message> puller::receive(milliseconds timeout) {
    return detail::receive_new(*impl_, timeout);
}
bool puller::receive(message& into, milliseconds timeout) {
    return impl_->receive(into, timeout);
}
std::uint64_t puller::oversized_dropped() const noexcept {
    return impl_->oversized_dropped();
}
const std::vector<std::string>& puller::endpoints() const {
    return impl_->endpoints();
}

connection_counts puller::connections() const {
    return impl_->connections();
}

std::vector<connection_info> puller::open_connections() const {
    return impl_->open_connections();
}
detail::poll_handle puller::poll_handle() const {
    return impl_->handle();
}

}  // namespace zpat
