// The request-reply roles: owners of whichever backend cell the endpoints select.

#include "zpat/reqrep.hpp"
#include "seam/registry.hpp"

namespace zpat {

namespace {

options requester_options(options opts) {
    // A requester must never block forever on send (a bound requester with no peer yet), or the
    // request timeout it promises would not hold.
    if (opts.send_timeout == forever) {
        opts.send_timeout = opts.request_timeout;
    }
    return opts;
}

}  // namespace

requester::requester(std::string_view endpoints, const options& opts) {
    auto [owner, list] = detail::resolve(endpoints, link::connect, opts, role_kind::requester);
    impl_ = owner->make_requester(list, requester_options(opts));
}
requester::~requester() = default;
requester::requester(requester&&) noexcept = default;
requester& requester::operator=(requester&&) noexcept = default;

std::optional<message> requester::request(const message& request) {
    return impl_->request(request);
}
int requester::last_attempts() const noexcept {
    return impl_->last_attempts();
}
const std::vector<std::string>& requester::endpoints() const {
    return impl_->endpoints();
}

connection_counts requester::connections() const {
    return impl_->connections();
}

std::vector<connection_info> requester::open_connections() const {
    return impl_->open_connections();
}

replier::replier(std::string_view endpoints, const options& opts) {
    auto [owner, list] = detail::resolve(endpoints, link::bind, opts, role_kind::replier);
    impl_ = owner->make_replier(list, opts);
}
replier::~replier() = default;
replier::replier(replier&&) noexcept = default;
replier& replier::operator=(replier&&) noexcept = default;

std::optional<message> replier::receive(milliseconds timeout) {
    return detail::receive_new(*impl_, timeout);
}
void replier::reply(const message& reply) {
    impl_->reply(reply);
}
void replier::serve(const handler& on_request, unsigned threads) {
    impl_->serve(on_request, threads);
}
void replier::stop() {
    impl_->stop();
}
std::uint64_t replier::handler_failures() const noexcept {
    return impl_->handler_failures();
}
std::uint64_t replier::malformed_requests() const noexcept {
    return impl_->malformed_requests();
}
const std::vector<std::string>& replier::endpoints() const {
    return impl_->endpoints();
}

connection_counts replier::connections() const {
    return impl_->connections();
}

std::vector<connection_info> replier::open_connections() const {
    return impl_->open_connections();
}
detail::poll_handle replier::poll_handle() const {
    return impl_->handle();
}

}  // namespace zpat
