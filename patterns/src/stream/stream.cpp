// The stream role: the owner of whichever backend cell the endpoints select.

#include "zpat/stream.hpp"
#include "seam/registry.hpp"

namespace zpat {

stream::stream(std::string_view endpoints, const options& opts) {
    auto [owner, list] = detail::resolve(endpoints, link::bind, opts, role_kind::stream);
    impl_ = owner->make_stream(list, opts);
}
stream::~stream() = default;
stream::stream(stream&&) noexcept = default;
stream& stream::operator=(stream&&) noexcept = default;

std::optional<stream::event> stream::receive(milliseconds timeout) {
    return impl_->receive(timeout);
}
bool stream::send(connection_id connection, std::string_view bytes) {
    return impl_->send(connection, bytes);
}
void stream::close(connection_id connection) {
    impl_->close(connection);
}
const std::vector<std::string>& stream::endpoints() const {
    return impl_->endpoints();
}
detail::poll_handle stream::poll_handle() const {
    return impl_->handle();
}

}  // namespace zpat
