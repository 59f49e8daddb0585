// The relay role: the owner of the relay that the registry finds for its two cells.

#include "zpat/relay.hpp"

#include "seam/registry.hpp"

namespace zpat {

detail::receiver_impl* relay::cell(puller& role) {
    return role.impl_.get();
}
detail::receiver_impl* relay::cell(subscriber& role) {
    return role.impl_.get();
}
detail::receiver_impl* relay::cell(xsubscriber& role) {
    return role.impl_.get();
}
detail::sender_impl* relay::cell(pusher& role) {
    return role.impl_.get();
}
detail::sender_impl* relay::cell(publisher& role) {
    return role.impl_.get();
}
detail::sender_impl* relay::cell(xpublisher& role) {
    return role.impl_.get();
}

relay::relay(source from, destination to) : impl_(detail::make_relay(*from.impl_, *to.impl_)) {}
relay::~relay() = default;
relay::relay(relay&&) noexcept = default;
relay& relay::operator=(relay&&) noexcept = default;

relayed relay::step(const frame_watch& watch, watched_frames which) {
    return impl_->step(watch, which);
}

}  // namespace zpat
