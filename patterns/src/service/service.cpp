// The service roles (Majordomo): owners of whichever backend cell the broker endpoint selects.

#include <stdexcept>
#include <string>

#include "seam/registry.hpp"
#include "zpat/core/error.hpp"
#include "zpat/majordomo.hpp"
#include "zpat/service.hpp"

namespace zpat {

namespace {

options client_options(options opts) {
    // As for the requester: never wait forever on send, or the request timeout would not hold.
    if (opts.send_timeout == forever) {
        opts.send_timeout = opts.request_timeout;
    }
    return opts;
}

}  // namespace

service_client::service_client(std::string_view broker, const options& opts) {
    auto [owner, list] = detail::resolve(broker, link::connect, opts, role_kind::service_client);
    impl_ = owner->make_service_client(list, client_options(opts));
}
service_client::~service_client() = default;
service_client::service_client(service_client&&) noexcept = default;
service_client& service_client::operator=(service_client&&) noexcept = default;

std::optional<message> service_client::request(std::string_view service, const message& body) {
    message request{mdp::client_header, service};
    for (const std::string& frame : body) {
        request.push_back(frame);
    }
    auto reply = impl_->request(request);
    if (!reply) {
        return std::nullopt;
    }
    if (reply->size() < 2 || (*reply)[0] != mdp::client_header || (*reply)[1] != service) {
        throw decode_error("reply to a request for service '" + std::string(service) +
                           "' is not an MDP/0.1 reply from that service");
    }
    reply->pop_front();
    reply->pop_front();
    return reply;
}

int service_client::last_attempts() const noexcept {
    return impl_->last_attempts();
}

service_worker::service_worker(std::string_view broker, std::string_view service,
                               const options& opts) {
    if (service.empty() || service.starts_with(mdp::mmi_prefix)) {
        throw std::invalid_argument("a worker cannot serve '" + std::string(service) + "': " +
                                    (service.empty() ? "the service name is empty"
                                                     : "mmi.* services belong to the broker"));
    }
    auto [owner, list] = detail::resolve(broker, link::connect, opts, role_kind::service_worker);
    impl_ = owner->make_service_worker(list, service, opts);
}
service_worker::~service_worker() = default;
service_worker::service_worker(service_worker&&) noexcept = default;
service_worker& service_worker::operator=(service_worker&&) noexcept = default;

std::optional<message> service_worker::receive(milliseconds timeout) {
    message body;
    if (!impl_->receive(body, timeout)) {
        return std::nullopt;
    }
    return body;
}
void service_worker::reply(const message& body) {
    impl_->reply(body);
}
void service_worker::abandon() {
    impl_->abandon();
}
void service_worker::serve(const handler& on_request) {
    impl_->serve(on_request);
}
void service_worker::stop() {
    impl_->stop();
}
std::uint64_t service_worker::reconnects() const noexcept {
    return impl_->reconnects();
}
std::uint64_t service_worker::malformed_commands() const noexcept {
    return impl_->malformed_commands();
}
std::uint64_t service_worker::handler_failures() const noexcept {
    return impl_->handler_failures();
}
const std::vector<std::string>& service_worker::endpoints() const {
    return impl_->endpoints();
}

}  // namespace zpat
