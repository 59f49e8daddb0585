#include "http.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include <charconv>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <vector>

#include "http_guard.hpp"

namespace zpat::broker {

extern const std::string_view dashboard_html;  // daemon/dashboard.html, embedded at build time

namespace {

// cpp-httplib's default sets SO_REUSEPORT, which lets a second broker bind the same port and
// take half the requests. SO_REUSEADDR alone still allows a restart over TIME_WAIT; an IPv6
// socket also takes IPv4 (not v6-only), so that an empty host means every address.
void exclusive_dual_stack(socket_t sock) {
    const int yes = 1;
    const int no = 0;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    int domain = 0;
    socklen_t size = sizeof domain;
    if (getsockopt(sock, SOL_SOCKET, SO_DOMAIN, &domain, &size) == 0 && domain == AF_INET6) {
        setsockopt(sock, IPPROTO_IPV6, IPV6_V6ONLY, &no, sizeof no);
    }
}

// Connections the kernel holds before the HTTP thread accepts them (cpp-httplib asks for 5).
constexpr int listen_backlog = 64;

// /connz pages, as nats-server's: 1024 connections unless ?limit= asks for others, at most
// 10,000 in one answer.
constexpr std::size_t default_connz_limit = 1024;
constexpr std::size_t max_connz_limit = 10000;

// Reads the query parameter `name` into `value` when the request has it. Returns "", or what is
// wrong with it: not a whole number, or over `max`.
std::string page_parameter(const httplib::Request& req, const std::string& name, std::size_t& value,
                           std::size_t max) {
    if (!req.has_param(name.c_str())) {
        return {};
    }
    const std::string text = req.get_param_value(name.c_str());
    std::size_t parsed = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || parsed > max) {
        return name + " must be a whole number" +
               (max == SIZE_MAX ? "" : " from 0 to " + std::to_string(max)) + ", not '" + text +
               "'\n";
    }
    value = parsed;
    return {};
}

// GET /connz[?offset=N][&limit=M]: a page of the broker's connections, or 400 and why not.
void serve_connz(const broker& source, const httplib::Request& req, httplib::Response& res) {
    std::size_t offset = 0;
    std::size_t limit = default_connz_limit;
    std::string bad = page_parameter(req, "offset", offset, SIZE_MAX);
    if (bad.empty()) {
        bad = page_parameter(req, "limit", limit, max_connz_limit);
    }
    if (!bad.empty()) {
        res.status = 400;
        res.set_content(bad, "text/plain");
        return;
    }
    res.set_content(connz_json(source.connections(), offset, limit), "application/json");
}

// Compares without stopping at the first difference, so the time taken tells nothing of the
// token.
bool same_secret(std::string_view a, std::string_view b) {
    unsigned char differ = a.size() == b.size() ? 0 : 1;
    for (std::size_t i = 0; i < a.size(); ++i) {
        differ |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : ~a[i]));
    }
    return differ == 0;
}

// The HTTP endpoint's own counter, after the broker's in /metrics.
std::string http_metrics(std::uint64_t cut) {
    return "# HELP zpat_broker_http_connections_cut_total HTTP connections closed for a request "
           "or answer past its deadline or size limit, or past the connection limit.\n"
           "# TYPE zpat_broker_http_connections_cut_total counter\n"
           "zpat_broker_http_connections_cut_total " +
           std::to_string(cut) + "\n";
}

std::string authority(const std::string& host, int port) {
    const bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace

std::string read_http_token(const std::string& file) {
    struct stat info {};
    if (::stat(file.c_str(), &info) != 0) {
        throw std::invalid_argument("'" + file + "' cannot be read: " + std::strerror(errno));
    }
    if ((info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        throw std::invalid_argument("'" + file +
                                    "' holds a secret but others than its owner may read it; "
                                    "make it private with: chmod 600 " +
                                    file);
    }
    if (info.st_size > 4096) {
        throw std::invalid_argument("'" + file + "' is over 4 KiB; a token is one short line");
    }
    std::ifstream in(file);
    std::string token;
    if (!in || !std::getline(in, token)) {
        throw std::invalid_argument("'" + file + "' cannot be read, or is empty");
    }
    if (!token.empty() && token.back() == '\r') {
        token.pop_back();
    }
    const bool printable =
        std::all_of(token.begin(), token.end(), [](char c) { return c > ' ' && c < 0x7f; });
    if (token.size() < 16 || !printable) {
        throw std::invalid_argument(
            "'" + file +
            "': the token must be at least 16 printable ASCII "
            "characters with no spaces (e.g. head -c 24 /dev/urandom | base64)");
    }
    return token;
}

http_address parse_http_address(const std::string& host_port) {
    const auto colon = host_port.rfind(':');
    if (colon == std::string::npos) {
        throw std::invalid_argument("'" + host_port + "' is not HOST:PORT");
    }
    http_address out;
    out.host = host_port.substr(0, colon);
    if (out.host.size() >= 2 && out.host.front() == '[' && out.host.back() == ']') {
        out.host = out.host.substr(1, out.host.size() - 2);
    }
    const std::string port = host_port.substr(colon + 1);
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), out.port);
    if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || out.port < 0 ||
        out.port > 65535) {
        throw std::invalid_argument("'" + host_port + "': the port '" + port +
                                    "' is not a number from 0 to 65535");
    }
    return out;
}

struct http_endpoint::impl {
    // A client that sends nothing is closed after a second, one that sends half a request or
    // trickles it after three seconds in all; neither holds a thread meanwhile.
    guarded_server server{http_limits{}};
    std::thread thread;

    // Binds `host`; "" is every address: "::", which takes IPv4 too (the socket is not
    // v6-only), or "0.0.0.0" where IPv6 is off. Returns the port, or -1; `host` becomes the
    // address bound.
    int bind(std::string& host, int port) {
        if (host.empty()) {
            for (const char* any : {"::", "0.0.0.0"}) {
                host = any;
                if (const int bound = bind(host, port); bound >= 0) {
                    return bound;
                }
            }
            return -1;
        }
        if (port == 0) {
            return server.bind_to_any_port(host);
        }
        return server.bind_to_port(host, port) ? port : -1;
    }
};

http_endpoint::http_endpoint(const http_address& address, const broker& source, server_info info,
                             std::string token)
    : info_(std::move(info)), impl_(std::make_unique<impl>()) {
    impl_->server.set_socket_options(exclusive_dual_stack);
    if (!token.empty()) {
        // The page itself holds no numbers; everything else but /healthz wants the token.
        impl_->server.set_pre_routing_handler(
            [token = std::move(token)](const httplib::Request& req, httplib::Response& res) {
                if (req.path == "/" || req.path == "/healthz" ||
                    same_secret(req.get_header_value("Authorization"), "Bearer " + token)) {
                    return httplib::Server::HandlerResponse::Unhandled;
                }
                res.status = 401;
                res.set_header("WWW-Authenticate", "Bearer realm=\"zpat-broker\"");
                res.set_content("a bearer token is required (Authorization: Bearer TOKEN)\n",
                                "text/plain");
                return httplib::Server::HandlerResponse::Handled;
            });
    }
    impl_->server.Get("/", [](const httplib::Request&, httplib::Response& res) {
        res.set_content(dashboard_html.data(), dashboard_html.size(), "text/html; charset=utf-8");
    });
    impl_->server.Get("/stats", [&source](const httplib::Request&, httplib::Response& res) {
        res.set_content(to_json(source.counters()), "application/json");
    });
    impl_->server.Get("/metrics", [this, &source](const httplib::Request&, httplib::Response& res) {
        res.set_content(to_prometheus(source.counters()) + http_metrics(impl_->server.cut()),
                        "text/plain; version=0.0.4");
    });
    impl_->server.Get("/varz", [this, &source](const httplib::Request&, httplib::Response& res) {
        res.set_content(
            varz_json(source.counters(), info_, {.connections_cut = impl_->server.cut()}),
            "application/json");
    });
    impl_->server.Get("/subsz", [&source](const httplib::Request&, httplib::Response& res) {
        const std::string body = subsz_json(source.counters());
        res.status = body.empty() ? 404 : 200;
        res.set_content(body.empty() ? "no forwarder runs\n" : body,
                        body.empty() ? "text/plain" : "application/json");
    });
    impl_->server.Get("/connz", [&source](const httplib::Request& req, httplib::Response& res) {
        serve_connz(source, req, res);
    });
    // For load balancers and supervisors: 200 while every device runs, 503 and why not.
    impl_->server.Get("/healthz", [&source](const httplib::Request&, httplib::Response& res) {
        const std::string trouble = source.trouble();
        res.status = trouble.empty() ? 200 : 503;
        res.set_content(trouble.empty() ? "ok\n" : trouble + "\n", "text/plain");
    });
    std::string host = address.host;
    const int port = impl_->bind(host, address.port);
    if (port < 0) {
        throw std::runtime_error(
            "cannot listen for HTTP on " +
            authority(address.host.empty() ? "*" : address.host, address.port) +
            " (is the port in use, or the host not one of this machine's?)");
    }
    impl_->server.widen_backlog(listen_backlog);
    authority_ = authority(host, port);
    impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
}

http_endpoint::~http_endpoint() {
    impl_->server.stop();
    impl_->thread.join();
}

}  // namespace zpat::broker
