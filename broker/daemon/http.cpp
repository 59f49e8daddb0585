#include "http.hpp"

#include <httplib.h>

#include <stdexcept>
#include <thread>

namespace zpat::broker {

struct http_endpoint::impl {
    httplib::Server server;
    std::thread thread;
};

http_endpoint::http_endpoint(const std::string& host_port, const broker& source)
    : impl_(std::make_unique<impl>()) {
    const auto colon = host_port.rfind(':');
    const std::string host = host_port.substr(0, colon);
    int port = 0;
    try {
        port = std::stoi(host_port.substr(colon + 1));
    } catch (const std::exception&) {
        throw std::runtime_error("--http '" + host_port + "': the port is not a number");
    }
    impl_->server.Get("/stats", [&source](const httplib::Request&, httplib::Response& res) {
        res.set_content(to_json(source.counters()), "application/json");
    });
    impl_->server.Get("/metrics", [&source](const httplib::Request&, httplib::Response& res) {
        res.set_content(to_prometheus(source.counters()), "text/plain; version=0.0.4");
    });
    if (!impl_->server.bind_to_port(host, port)) {
        throw std::runtime_error("cannot listen for HTTP on '" + host_port + "'");
    }
    impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
}

http_endpoint::~http_endpoint() {
    impl_->server.stop();
    impl_->thread.join();
}

}  // namespace zpat::broker
