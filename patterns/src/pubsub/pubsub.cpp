// The publish-subscribe roles: owners of whichever backend cell the endpoints select.

#include "zpat/pubsub.hpp"
#include "seam/registry.hpp"
#include "zpat/core/error.hpp"

namespace zpat {

publisher::publisher(std::string_view endpoints, const options& opts) {
    auto [owner, list] = detail::resolve(endpoints, link::bind, opts, role_kind::publisher);
    impl_ = owner->make_publisher(list, opts);
}
publisher::~publisher() = default;
publisher::publisher(publisher&&) noexcept = default;
publisher& publisher::operator=(publisher&&) noexcept = default;

bool publisher::send(const message& msg) {
    return impl_->send(msg);
}
bool publisher::publish(std::string_view topic, std::string_view payload) {
    return impl_->send(message{topic, payload});
}
bool publisher::wait_for_subscriptions(std::size_t count, milliseconds timeout) {
    return impl_->wait_for_subscriptions(count, timeout);
}
std::size_t publisher::subscriptions_seen() const noexcept {
    return impl_->subscriptions_seen();
}
std::uint64_t publisher::dropped() const {
    return impl_->dropped();
}
const std::vector<std::string>& publisher::endpoints() const {
    return impl_->endpoints();
}

connection_counts publisher::connections() const {
    return impl_->connections();
}

std::vector<connection_info> publisher::open_connections() const {
    return impl_->open_connections();
}

subscriber::subscriber(std::string_view endpoints, std::initializer_list<std::string_view> topics,
                       const options& opts) {
    auto [owner, list] = detail::resolve(endpoints, link::connect, opts, role_kind::subscriber);
    if (opts.failover) {
        // It moves on when the socket monitor says a connection was lost: tcp:// and ipc://.
        for (const auto& e : list) {
            if (e.scheme != "tcp" && e.scheme != "ipc") {
                throw unsupported_error("options::failover: " + e.url() +
                                        " is not a ZeroMQ tcp:// or ipc:// endpoint, whose "
                                        "connections a subscriber can watch to fail over");
            }
            if (e.side == link::bind) {
                throw option_error("options::failover: the subscriber binds " + e.url() +
                                   "; it fails over between endpoints it connects to");
            }
        }
    }
    impl_ = owner->make_subscriber(list, opts);
    for (std::string_view topic : topics) {
        impl_->subscribe(topic);
    }
}
subscriber::~subscriber() = default;
subscriber::subscriber(subscriber&&) noexcept = default;
subscriber& subscriber::operator=(subscriber&&) noexcept = default;

void subscriber::subscribe(std::string_view prefix) {
    impl_->subscribe(prefix);
}
void subscriber::unsubscribe(std::string_view prefix) {
    impl_->unsubscribe(prefix);
}
std::optional<message> subscriber::receive(milliseconds timeout) {
    return detail::receive_new(*impl_, timeout);
}
bool subscriber::receive(message& into, milliseconds timeout) {
    return impl_->receive(into, timeout);
}
std::uint64_t subscriber::lost_messages() const noexcept {
    return impl_->lost();
}
std::uint64_t subscriber::oversized_dropped() const noexcept {
    return impl_->oversized_dropped();
}
const std::vector<std::string>& subscriber::endpoints() const {
    return impl_->endpoints();
}

connection_counts subscriber::connections() const {
    return impl_->connections();
}

std::vector<connection_info> subscriber::open_connections() const {
    return impl_->open_connections();
}
detail::poll_handle subscriber::poll_handle() const {
    return impl_->handle();
}

}  // namespace zpat

namespace zpat {

xpublisher::xpublisher(std::string_view endpoints, const options& opts) {
    auto [owner, list] = detail::resolve(endpoints, link::bind, opts, role_kind::xpublisher);
    impl_ = owner->make_xpublisher(list, opts);
}
xpublisher::~xpublisher() = default;
xpublisher::xpublisher(xpublisher&&) noexcept = default;
xpublisher& xpublisher::operator=(xpublisher&&) noexcept = default;

bool xpublisher::send(const message& msg) {
    return impl_->send(msg);
}
bool xpublisher::receive_subscription(message& into, milliseconds timeout) {
    return impl_->receive_subscription(into, timeout);
}
std::uint64_t xpublisher::dropped() const {
    return impl_->dropped();
}
connection_counts xpublisher::connections() const {
    return impl_->connections();
}

std::vector<connection_info> xpublisher::open_connections() const {
    return impl_->open_connections();
}
const std::vector<std::string>& xpublisher::endpoints() const {
    return impl_->endpoints();
}
detail::poll_handle xpublisher::poll_handle() const {
    return impl_->subscriptions_handle();
}

xsubscriber::xsubscriber(std::string_view endpoints, const options& opts) {
    auto [owner, list] = detail::resolve(endpoints, link::connect, opts, role_kind::xsubscriber);
    impl_ = owner->make_xsubscriber(list, opts);
}
xsubscriber::~xsubscriber() = default;
xsubscriber::xsubscriber(xsubscriber&&) noexcept = default;
xsubscriber& xsubscriber::operator=(xsubscriber&&) noexcept = default;

bool xsubscriber::send(const message& msg) {
    return impl_->send(msg);
}
void xsubscriber::subscribe(std::string_view prefix) {
    impl_->send(message{"\x01" + std::string(prefix)});
}
void xsubscriber::unsubscribe(std::string_view prefix) {
    impl_->send(message{std::string(1, '\0') + std::string(prefix)});
}
bool xsubscriber::receive(message& into, milliseconds timeout) {
    return impl_->receive(into, timeout);
}
std::uint64_t xsubscriber::oversized_dropped() const noexcept {
    return impl_->oversized_dropped();
}
std::uint64_t xsubscriber::dropped() const {
    return impl_->dropped();
}
connection_counts xsubscriber::connections() const {
    return impl_->connections();
}

std::vector<connection_info> xsubscriber::open_connections() const {
    return impl_->open_connections();
}
const std::vector<std::string>& xsubscriber::endpoints() const {
    return impl_->endpoints();
}
detail::poll_handle xsubscriber::poll_handle() const {
    return impl_->handle();
}

}  // namespace zpat
