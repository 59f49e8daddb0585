// The datagram role: the owner of whichever backend cell the endpoint selects.

#include "zpat/datagram.hpp"

#include "seam/registry.hpp"

namespace zpat {

datagram::datagram(std::string_view endpoint, const options& opts) {
    auto [owner, list] = detail::resolve(endpoint, link::bind, opts, role_kind::datagram);
    impl_ = owner->make_datagram(list, opts);
}
datagram::~datagram() = default;
datagram::datagram(datagram&&) noexcept = default;
datagram& datagram::operator=(datagram&&) noexcept = default;

std::optional<datagram::received> datagram::receive(milliseconds timeout) {
    return impl_->receive(timeout);
}
bool datagram::send(std::string_view bytes) {
    return impl_->send(nullptr, bytes);
}
bool datagram::send(const peer& to, std::string_view bytes) {
    return impl_->send(&to, bytes);
}
std::uint64_t datagram::dropped() const {
    return impl_->dropped();
}
const std::vector<std::string>& datagram::endpoints() const {
    return impl_->endpoints();
}
detail::poll_handle datagram::poll_handle() const {
    return impl_->handle();
}

}  // namespace zpat
