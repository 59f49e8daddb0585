#include "broker_bench.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <optional>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

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

// What run_mdp measures.
struct mdp_figures {
    double broker_p50_us = 0;
    double bare_p50_us = 0;
    double one_worker_per_second = 0;
    double four_workers_per_second = 0;
};

// The p50 round trip through the broker, one request at a time, against bare REQ/REP's.
// Returns false when the broker did not answer.
bool mdp_latency(const settings& s, const std::string& endpoint, const std::string& payload,
                 long count, mdp_figures& into) {
    service_client single(endpoint, {.request_timeout = 5s, .retries = 0});
    if (!single.request("echo", {payload})) {
        std::fprintf(stderr, "zpat bench: the broker did not answer\n");
        return false;
    }
    std::vector<double> broker_us;
    for (long i = 0; i < std::min(count, 10000L); ++i) {
        const auto sent = clock::now();
        if (!single.request("echo", {payload})) {
            std::fprintf(stderr, "zpat bench: the broker stopped answering\n");
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
    into.broker_p50_us = broker_us[broker_us.size() / 2];
    into.bare_p50_us = bare.latencies_us[bare.latencies_us.size() / 2];
    return true;
}

// The figures as one JSON object on one line, in the shape of the other measurements' --json.
void print_mdp_json(const settings& s, long count, const mdp_figures& f, long lost) {
    const nlohmann::json out{
        {"shape", "broker-mdp"},
        {"message_size", s.message_size},
        {"count", count},
        {"baseline",
         {{"label", "bare libzmq REQ/REP"}, {"transport", "tcp"}, {"p50_us", f.bare_p50_us}}},
        {"measured",
         {{"label", "zpat-broker Majordomo"},
          {"transport", "tcp"},
          {"p50_us", f.broker_p50_us},
          {"requests_per_second_1_worker", f.one_worker_per_second},
          {"requests_per_second_4_workers", f.four_workers_per_second},
          {"clients", 8}}},
        {"ratios", {{"p50_latency", f.broker_p50_us / f.bare_p50_us}}},
        {"lost", lost},
        {"lossless", lost == 0}};
    std::printf("%s\n", out.dump().c_str());
}

}  // namespace

int run_mdp(const settings& s) {
    const long count = s.count > 0 ? s.count : 20000;
    const std::string payload(s.message_size, 'x');
    if (!s.json) {
        std::printf(
            "Majordomo echo through zpat's service broker over tcp: %zu-byte bodies, %ld "
            "requests per measurement\n",
            s.message_size, count);
        std::fflush(stdout);
    }

    spdlog::set_level(spdlog::level::warn);  // workers coming and going are not the news here
    broker::config cfg;
    cfg.service = broker::service_config{.endpoint = "tcp://127.0.0.1:*"};
    broker::broker b(cfg);
    b.start();
    const std::string endpoint = ">" + b.service_endpoint().at(0);

    echo_workers workers(endpoint);
    workers.grow_to(1);
    mdp_figures f;
    if (!mdp_latency(s, endpoint, payload, count, f)) {
        return 1;
    }
    std::atomic<long> lost{0};
    f.one_worker_per_second = mdp_throughput(endpoint, payload, count, 8, lost);
    workers.grow_to(4);
    f.four_workers_per_second = mdp_throughput(endpoint, payload, count, 8, lost);
    if (s.json) {
        print_mdp_json(s, count, f, lost.load());
        return lost > 0 ? 1 : 0;
    }
    std::printf(
        "  p50 round trip: through the broker %.1f us, direct bare libzmq REQ/REP %.1f us "
        "(ratio %.2f: two hops instead of one)\n",
        f.broker_p50_us, f.bare_p50_us, f.broker_p50_us / f.bare_p50_us);
    std::printf("  requests/s with 8 clients: 1 worker %.0f, 4 workers %.0f\n",
                f.one_worker_per_second, f.four_workers_per_second);
    if (lost > 0) {
        std::printf("  %ld requests got no reply within 5 s\n", lost.load());
        return 1;
    }
    return 0;
}

}  // namespace zpat::bench
