#include "broker_bench.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <optional>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "zpat/broker/broker.hpp"
#include "zpat/zpat.hpp"

namespace zpat::bench {
namespace {

using clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// A publisher of bare libzmq, lossless: an XPUB with XPUB_NODROP waits when its queue is full.
// It connects to `frontend` and returns once a subscription has come back through the proxy.
zmq::socket_t bare_publisher(const std::string& frontend) {
    zmq::socket_t pub(baseline_context(), zmq::socket_type::xpub);
    pub.set(zmq::sockopt::xpub_nodrop, 1);
    pub.set(zmq::sockopt::rcvtimeo, 5000);
    pub.connect(frontend);
    return pub;
}

zmq::socket_t bare_subscriber(const std::string& backend) {
    zmq::socket_t sub(baseline_context(), zmq::socket_type::sub);
    sub.set(zmq::sockopt::rcvtimeo,
            static_cast<int>(std::chrono::milliseconds(idle_limit).count()));
    sub.set(zmq::sockopt::subscribe, "");
    sub.connect(backend);
    return sub;
}

// Streams s.count two-frame messages between bare ends through a proxy at the two addresses.
result bare_ends(const settings& s, const std::string& payload, const std::string& frontend,
                 const std::string& backend) {
    zmq::socket_t pub = bare_publisher(frontend);
    zmq::socket_t sub = bare_subscriber(backend);
    zmq::message_t subscription;
    (void)pub.recv(subscription);  // the subscription crossed the proxy: the path is up
    zmq::message_t got;
    return timed_stream(
        s.count,
        [&] {
            (void)pub.send(zmq::str_buffer("topic"), zmq::send_flags::sndmore);
            (void)pub.send(zmq::buffer(payload));
        },
        [&] { return sub.recv(got).has_value() && sub.recv(got).has_value(); });
}

}  // namespace

result bare_proxy_pubsub(const settings& s, const std::string& payload) {
    zmq::context_t& context = baseline_context();
    zmq::socket_t frontend(context, zmq::socket_type::xsub);
    zmq::socket_t backend(context, zmq::socket_type::xpub);
    backend.set(zmq::sockopt::xpub_nodrop, 1);
    // The same transport as zpat's side (libzmq's tcp when zpat's is raw+tcp).
    frontend.bind(baseline_address(s.transport));
    backend.bind(baseline_address(s.transport));
    // A PAIR control socket: zmq_proxy_steerable in 4.3.4 answers nothing to TERMINATE, so a REP
    // would wedge.
    static std::atomic<int> counter{0};
    const std::string control_address = "inproc://zpat-bench-proxy-" + std::to_string(counter++);
    zmq::socket_t control_in(context, zmq::socket_type::pair);
    control_in.bind(control_address);
    zmq::socket_t control_out(context, zmq::socket_type::pair);
    control_out.connect(control_address);
    std::thread proxy([&] {
        zmq_proxy_steerable(frontend.handle(), backend.handle(), nullptr, control_in.handle());
    });
    result r = bare_ends(s, payload, frontend.get(zmq::sockopt::last_endpoint),
                         backend.get(zmq::sockopt::last_endpoint));
    (void)control_out.send(zmq::str_buffer("TERMINATE"));
    proxy.join();
    return r;
}

result broker_pubsub(const settings& s, const std::string& payload) {
    broker::config cfg;
    cfg.forwarder = broker::forwarder_config{.frontend = bind_address(s.transport),
                                             .backend = bind_address(s.transport),
                                             .lossless = true};
    broker::broker b(cfg);
    b.start();
    if (s.transport != "raw+tcp") {
        return bare_ends(s, payload, b.forwarder_frontend().at(0), b.forwarder_backend().at(0));
    }
    // On raw+tcp the ends are zpat's raw roles: libzmq cannot speak that wire.
    publisher pub(">" + b.forwarder_frontend().at(0), {.block_when_full = true});
    subscriber sub(b.forwarder_backend().at(0), {""});
    pub.wait_for_subscriptions(1, 5s);  // the broker subscribes upstream to everything
    message got;
    // The subscriber's connection is up once a probe arrives.
    for (auto deadline = clock::now() + 5s; clock::now() < deadline;) {
        pub.publish("probe", "");
        if (sub.receive(got, 10ms)) {
            break;
        }
    }
    while (sub.receive(got, 50ms)) {
    }
    const message msg{"topic", payload};
    return timed_stream(
        s.count, [&] { pub.send(msg); }, [&] { return sub.receive(got, idle_limit); });
}

namespace {

// Echo workers on their own threads, serving until the pool goes.
class echo_workers {
  public:
    explicit echo_workers(std::string endpoint) : endpoint_(std::move(endpoint)) {}
    ~echo_workers() {
        for (auto& w : workers_) {
            w->stop();
        }
        for (auto& t : serving_) {
            t.join();
        }
    }
    echo_workers(const echo_workers&) = delete;
    echo_workers& operator=(const echo_workers&) = delete;

    void grow_to(std::size_t n) {
        while (workers_.size() < n) {
            workers_.push_back(std::make_unique<service_worker>(endpoint_, "echo"));
            serving_.emplace_back(
                [w = workers_.back().get()] { w->serve([](message m) { return m; }); });
        }
    }

  private:
    std::string endpoint_;
    std::vector<std::unique_ptr<service_worker>> workers_;
    std::vector<std::thread> serving_;
};

// Requests per second from `clients` threads at once, each one round trip at a time. A request
// that got no reply ends its client and is counted in `lost`.
double mdp_throughput(const std::string& endpoint, const std::string& payload, long count,
                      int clients, std::atomic<long>& lost) {
    std::atomic<long> done{0};
    std::vector<std::thread> threads;
    threads.reserve(static_cast<std::size_t>(clients));
    const auto start = clock::now();
    for (int c = 0; c < clients; ++c) {
        threads.emplace_back([&] {
            service_client client(endpoint, {.request_timeout = 5s, .retries = 0});
            const long mine = count / clients;
            for (long i = 0; i < mine; ++i) {
                if (!client.request("echo", {payload})) {
                    lost += mine - i;
                    return;
                }
                ++done;
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    return static_cast<double>(done) / std::chrono::duration<double>(clock::now() - start).count();
}

// The p50 round trip through the broker, one request at a time, against bare REQ/REP's.
// Returns false when the broker did not answer.
bool mdp_latency(const settings& s, const std::string& endpoint, const std::string& payload,
                 long count) {
    service_client single(endpoint, {.request_timeout = 5s, .retries = 0});
    if (!single.request("echo", {payload})) {
        std::printf("  the broker did not answer\n");
        return false;
    }
    std::vector<double> broker_us;
    for (long i = 0; i < std::min(count, 10000L); ++i) {
        const auto sent = clock::now();
        if (!single.request("echo", {payload})) {
            return false;
        }
        broker_us.push_back(std::chrono::duration<double, std::micro>(clock::now() - sent).count());
    }
    std::sort(broker_us.begin(), broker_us.end());
    settings direct = s;
    direct.count = std::min(count, 10000L);
    direct.transport = "tcp";
    result bare = bare_reqrep(direct, payload);
    std::sort(bare.latencies_us.begin(), bare.latencies_us.end());
    const double broker_p50 = broker_us[broker_us.size() / 2];
    const double bare_p50 = bare.latencies_us[bare.latencies_us.size() / 2];
    std::printf(
        "  p50 round trip: through the broker %.1f us, direct bare libzmq REQ/REP %.1f us "
        "(ratio %.2f: two hops instead of one)\n",
        broker_p50, bare_p50, broker_p50 / bare_p50);
    return true;
}

}  // namespace

int run_mdp(const settings& s) {
    const long count = s.count > 0 ? s.count : 20000;
    const std::string payload(s.message_size, 'x');
    std::printf(
        "Majordomo echo through zpat's service broker over tcp: %zu-byte bodies, %ld "
        "requests per measurement\n",
        s.message_size, count);

    spdlog::set_level(spdlog::level::warn);  // workers coming and going are not the news here
    broker::config cfg;
    cfg.service = broker::service_config{.endpoint = "tcp://127.0.0.1:*"};
    broker::broker b(cfg);
    b.start();
    const std::string endpoint = ">" + b.service_endpoint().at(0);

    echo_workers workers(endpoint);
    workers.grow_to(1);
    if (!mdp_latency(s, endpoint, payload, count)) {
        return 1;
    }
    std::atomic<long> lost{0};
    const double one = mdp_throughput(endpoint, payload, count, 8, lost);
    workers.grow_to(4);
    const double four = mdp_throughput(endpoint, payload, count, 8, lost);
    std::printf("  requests/s with 8 clients: 1 worker %.0f, 4 workers %.0f\n", one, four);
    if (lost > 0) {
        std::printf("  %ld requests got no reply within 5 s\n", lost.load());
        return 1;
    }
    return 0;
}

}  // namespace zpat::bench
