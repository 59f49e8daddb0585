#include "broker_bench.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <regex>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "child_process.hpp"
#include "plain_wire.hpp"
#include "reqrep_bench.hpp"
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

zmq::socket_t bare_subscriber(const std::string& backend, const std::string& prefix = "") {
    zmq::socket_t sub(baseline_context(), zmq::socket_type::sub);
    sub.set(zmq::sockopt::rcvtimeo,
            static_cast<int>(std::chrono::milliseconds(idle_limit).count()));
    sub.set(zmq::sockopt::subscribe, prefix);
    sub.connect(backend);
    return sub;
}

// Times `count` calls of send_one through the process in the middle, whose CPU time over the
// same window goes into the result.
template <class Send, class Receive>
result through(const child_process& middle, long count, Send send_one, Receive receive_one) {
    const double before = middle.cpu_seconds();
    result r = timed_stream(count, send_one, receive_one);
    r.middle_cpu_seconds = middle.cpu_seconds() - before;
    return r;
}

// Streams s.count two-frame messages between bare ends through the proxy or broker `middle`,
// listening at the two addresses.
result bare_ends(const settings& s, const std::string& payload, const child_process& middle,
                 const std::string& frontend, const std::string& backend) {
    zmq::socket_t pub = bare_publisher(frontend);
    zmq::socket_t sub = bare_subscriber(backend);
    zmq::message_t subscription;
    (void)pub.recv(subscription);  // the subscription crossed the proxy: the path is up
    zmq::message_t got;
    return through(
        middle, s.count,
        [&] {
            (void)pub.send(zmq::str_buffer("topic"), zmq::send_flags::sndmore);
            (void)pub.send(zmq::buffer(payload));
        },
        [&] { return sub.recv(got).has_value() && sub.recv(got).has_value(); });
}

std::optional<fan_shape> fan_of(pattern p) {
    if (p == pattern::broker_fanout) {
        return fan_shape{.publishers = 1, .subscribers = 10};
    }
    if (p == pattern::broker_fanin) {
        return fan_shape{.publishers = 10, .subscribers = 1, .half_matching = true};
    }
    return std::nullopt;
}

// Publishes probes from the first publisher until every subscriber has one, then lets what is
// still on its way arrive and drops it: every path is up. Returns false if one never came.
bool probe_paths(std::vector<zmq::socket_t>& pubs, std::vector<zmq::socket_t>& subs) {
    std::vector<bool> heard(subs.size(), false);
    zmq::message_t got;
    const auto deadline = clock::now() + 5s;
    while (std::ranges::count(heard, false) > 0) {
        if (clock::now() > deadline) {
            return false;
        }
        (void)pubs[0].send(zmq::str_buffer("match"), zmq::send_flags::sndmore);
        (void)pubs[0].send(zmq::str_buffer("probe"));
        std::this_thread::sleep_for(10ms);
        for (std::size_t i = 0; i < subs.size(); ++i) {
            while (subs[i].recv(got, zmq::recv_flags::dontwait)) {
                heard[i] = true;
            }
        }
    }
    for (bool more = true; more;) {
        std::this_thread::sleep_for(50ms);
        more = false;
        for (auto& sub : subs) {
            while (sub.recv(got, zmq::recv_flags::dontwait)) {
                more = true;
            }
        }
    }
    return true;
}

// The fan shapes between bare ends: s.count messages shared among the publishers, each thread
// its own end; the window closes when the last subscriber has all it should.
result fan_ends(const settings& s, const fan_shape& f, const std::string& payload,
                const child_process& middle, const std::string& frontend,
                const std::string& backend) {
    std::vector<zmq::socket_t> pubs;
    std::vector<zmq::socket_t> subs;
    pubs.reserve(static_cast<std::size_t>(f.publishers));
    subs.reserve(static_cast<std::size_t>(f.subscribers));
    for (int i = 0; i < f.subscribers; ++i) {
        subs.push_back(bare_subscriber(backend, "match"));
    }
    for (int i = 0; i < f.publishers; ++i) {
        pubs.push_back(bare_publisher(frontend));
        zmq::message_t subscription;
        (void)pubs.back().recv(subscription);  // the subscription crossed the middle
    }
    if (!probe_paths(pubs, subs)) {
        throw std::runtime_error("a subscriber heard nothing through " + frontend);
    }
    const long each = s.count / f.publishers;  // messages per publisher
    const long matching = f.half_matching ? (each + 1) / 2 : each;
    const long per_subscriber = matching * f.publishers;
    std::atomic<long> delivered{0};
    const double cpu_before = middle.cpu_seconds();
    result r;
    const timed_window window;
    std::vector<std::thread> threads;
    threads.reserve(subs.size() + pubs.size());
    for (auto& sub : subs) {
        threads.emplace_back([&] {
            zmq::message_t got;
            long mine = 0;
            while (mine < per_subscriber && sub.recv(got) && sub.recv(got)) {
                ++mine;
            }
            delivered += mine;
        });
    }
    for (auto& pub : pubs) {
        threads.emplace_back([&] {
            for (long i = 0; i < each; ++i) {
                const bool wanted = !f.half_matching || i % 2 == 0;
                (void)pub.send(wanted ? zmq::str_buffer("match") : zmq::str_buffer("other"),
                               zmq::send_flags::sndmore);
                (void)pub.send(zmq::buffer(payload));
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    window.stop(r);
    r.middle_cpu_seconds = middle.cpu_seconds() - cpu_before;
    r.delivered = delivered;
    r.expected = per_subscriber * f.subscribers;
    return r;
}

// zpat-broker: as given, else next to this program (installed side by side), else where the
// build tree puts it, else on PATH.
std::string broker_program(const settings& s) {
    if (!s.broker_program.empty()) {
        return s.broker_program;
    }
    const std::filesystem::path here = std::filesystem::path(this_program()).parent_path();
    for (const auto& candidate :
         {here / "zpat-broker", here / ".." / ".." / "broker" / "zpat-broker"}) {
        if (::access(candidate.c_str(), X_OK) == 0) {
            return candidate.string();
        }
    }
    return "zpat-broker";
}

// zpat-broker with `flags`, logging at info (where it says its endpoints), no stats socket.
child_process start_broker(const settings& s, std::vector<std::string> flags) {
    flags.insert(flags.begin(), broker_program(s));
    for (const char* flag : {"--stats-endpoint", "", "--log-level", "info"}) {
        flags.emplace_back(flag);
    }
    try {
        return child_process(flags);
    } catch (const std::runtime_error& e) {
        throw std::runtime_error(std::string(e.what()) +
                                 " (zpat bench looks next to zpat, then on PATH; name the broker "
                                 "with --broker PATH)");
    }
}

}  // namespace

result bare_proxy_pubsub(const settings& s, const std::string& payload) {
    child_process proxy({this_program(), "bench-proxy", "--kind", "zmq_proxy", "--transport",
                         s.transport == "ipc" ? "ipc" : "tcp"});
    const std::string frontend = proxy.wait_for(std::regex("^frontend (\\S+)"), start_limit);
    const std::string backend = proxy.wait_for(std::regex("^backend (\\S+)"), start_limit);
    proxy.drain();
    if (const auto f = fan_of(s.shape)) {
        return fan_ends(s, *f, payload, proxy, frontend, backend);
    }
    return bare_ends(s, payload, proxy, frontend, backend);
}

result broker_pubsub(const settings& s, const std::string& payload) {
    child_process broker = start_broker(
        s, {"--no-service", "--no-streamer", "--forwarder-frontend", bind_address(s.transport),
            "--forwarder-backend", bind_address(s.transport), "--lossless"});
    const std::string frontend =
        broker.wait_for(std::regex("forwarder frontend \\(publishers\\) on (\\S+)"), start_limit);
    const std::string backend =
        broker.wait_for(std::regex("forwarder backend \\(subscribers\\) on (\\S+)"), start_limit);
    broker.drain();
    // On raw+tcp the ends are the plain peers the relay limit is measured with: libzmq cannot
    // speak that wire, and zpat's own ends would be measured too.
    const auto f = fan_of(s.shape);
    if (s.transport == "raw+tcp") {
        return f ? plain_fan_ends(s, *f, payload, broker, frontend, backend)
                 : plain_ends(s, payload, broker, frontend, backend);
    }
    if (f) {
        return fan_ends(s, *f, payload, broker, frontend, backend);
    }
    return bare_ends(s, payload, broker, frontend, backend);
}

result relay_pubsub(const settings& s, const std::string& payload) {
    child_process relay({this_program(), "bench-proxy", "--kind", "relay"});
    const std::string frontend = relay.wait_for(std::regex("^frontend (\\S+)"), start_limit);
    const std::string backend = relay.wait_for(std::regex("^backend (\\S+)"), start_limit);
    relay.drain();
    return plain_ends(s, payload, relay, frontend, backend);
}

int run_proxy_process(const std::string& kind, const std::string& transport) {
    if (kind == "relay") {
        return run_relay_process();
    }
    if (kind == "rep" || kind == "replier") {
        return run_replier_process(kind, transport);
    }
    // SIGTERM ends the proxy: blocked here, before the context's threads inherit the mask, and
    // taken by a thread that shuts the context down, which ends zmq_proxy.
    sigset_t stop{};
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);
    zmq::context_t context;
    zmq::socket_t frontend(context, zmq::socket_type::xsub);
    zmq::socket_t backend(context, zmq::socket_type::xpub);
    backend.set(zmq::sockopt::xpub_nodrop, 1);
    frontend.bind(baseline_address(transport));
    backend.bind(baseline_address(transport));
    std::printf("frontend %s\nbackend %s\n", frontend.get(zmq::sockopt::last_endpoint).c_str(),
                backend.get(zmq::sockopt::last_endpoint).c_str());
    std::fflush(stdout);
    std::thread stopper([&] {
        int received = 0;
        sigwait(&stop, &received);
        context.shutdown();
    });
    zmq_proxy(frontend.handle(), backend.handle(), nullptr);
    stopper.join();
    return 0;
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
    int rounds = 0;
    double broker_p50_us = 0;  // the median of the rounds' p50s
    double bare_p50_us = 0;
    double ratio = 0;                 // the median of the rounds' ratios
    double libzmq_client_p50_us = 0;  // the same through the broker from a libzmq REQ client
    double libzmq_client_ratio = 0;
    double one_worker_per_second = 0;
    double four_workers_per_second = 0;
    double one_worker_broker_us = 0;  // the broker's CPU per request in those runs
    double four_workers_broker_us = 0;
};

// The p50 of `count` round trips through the broker, one request at a time; nullopt when the
// broker stopped answering.
std::optional<double> broker_p50(service_client& client, const std::string& payload, long count) {
    std::vector<double> us;
    us.reserve(static_cast<std::size_t>(count));
    for (long i = 0; i < count; ++i) {
        const auto sent = clock::now();
        if (!client.request("echo", {payload})) {
            std::fprintf(stderr, "zpat bench: the broker stopped answering\n");
            return std::nullopt;
        }
        us.push_back(std::chrono::duration<double, std::micro>(clock::now() - sent).count());
    }
    return percentile(std::move(us), 0.5);
}

// The p50 round trip through the broker, one request at a time, against bare REQ/REP's, in
// interleaved rounds: the machine's load drifts over seconds, and a ratio of two measurements
// taken side by side, many times over, is what stays put between runs. The client is zpat's as
// users make it (options left as they are: zpat's own REQ, doing its I/O on the caller's
// thread); a client on libzmq's REQ, as other ZeroMQ programs are, is measured beside it.
// Returns false when the broker did not answer.
bool mdp_latency(const settings& s, const std::string& endpoint, const std::string& payload,
                 long count, mdp_figures& into) {
    service_client single(endpoint, {.request_timeout = 5s, .retries = 0});
    service_client on_libzmq(endpoint,
                             {.request_timeout = 5s, .retries = 0, .io = io_model::io_thread});
    if (!single.request("echo", {payload}) || !on_libzmq.request("echo", {payload})) {
        std::fprintf(stderr, "zpat bench: the broker did not answer\n");
        return false;
    }
    into.rounds = s.rounds > 0 ? s.rounds : 11;
    settings direct = s;
    direct.count = std::max(1L, std::min(count, 10000L) / into.rounds);
    direct.transport = "tcp";
    std::vector<double> broker_p50s;
    std::vector<double> libzmq_p50s;
    std::vector<double> bare_p50s;
    std::vector<double> ratios;
    std::vector<double> libzmq_ratios;
    for (int round = 0; round < into.rounds; ++round) {
        const auto ours = broker_p50(single, payload, direct.count);
        const auto theirs = broker_p50(on_libzmq, payload, direct.count);
        if (!ours || !theirs) {
            return false;
        }
        broker_p50s.push_back(*ours);
        libzmq_p50s.push_back(*theirs);
        bare_p50s.push_back(percentile(bare_reqrep(direct, payload).latencies_us, 0.5));
        ratios.push_back(*ours / bare_p50s.back());
        libzmq_ratios.push_back(*theirs / bare_p50s.back());
        if (s.show_rounds) {
            std::fprintf(stderr,
                         "  round %d: through the broker %.1f us (a libzmq client %.1f us), direct "
                         "%.1f us (%.2f, %.2f)\n",
                         round + 1, *ours, *theirs, bare_p50s.back(), ratios.back(),
                         libzmq_ratios.back());
        }
    }
    into.broker_p50_us = percentile(broker_p50s, 0.5);
    into.libzmq_client_p50_us = percentile(libzmq_p50s, 0.5);
    into.bare_p50_us = percentile(bare_p50s, 0.5);
    into.ratio = percentile(ratios, 0.5);
    into.libzmq_client_ratio = percentile(libzmq_ratios, 0.5);
    return true;
}

// The figures as one JSON object on one line, in the shape of the other measurements' --json.
void print_mdp_json(const settings& s, long count, const mdp_figures& f, long lost) {
    const nlohmann::json out{
        {"shape", "broker-mdp"},
        {"message_size", s.message_size},
        {"count", count},
        {"rounds", f.rounds},
        {"baseline",
         {{"label", "bare libzmq REQ/REP"}, {"transport", "tcp"}, {"p50_us", f.bare_p50_us}}},
        {"measured",
         {{"label", "zpat-broker Majordomo"},
          {"transport", "tcp"},
          {"p50_us", f.broker_p50_us},
          {"p50_us_libzmq_client", f.libzmq_client_p50_us},
          {"requests_per_second_1_worker", f.one_worker_per_second},
          {"requests_per_second_4_workers", f.four_workers_per_second},
          {"broker_cpu_us_per_request_1_worker", f.one_worker_broker_us},
          {"broker_cpu_us_per_request_4_workers", f.four_workers_broker_us},
          {"clients", 8}}},
        {"ratios",
         {{"p50_latency", f.ratio}, {"p50_latency_libzmq_client", f.libzmq_client_ratio}}},
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
            "Majordomo echo through a zpat-broker process over tcp: %zu-byte bodies, %ld "
            "round trips for the latency, %ld requests per throughput measurement\n",
            s.message_size, std::min(count, 10000L), count);
        std::fflush(stdout);
    }

    spdlog::set_level(spdlog::level::warn);  // workers coming and going are not the news here
    child_process broker = start_broker(
        s, {"--no-forwarder", "--no-streamer", "--service-endpoint", "tcp://127.0.0.1:*"});
    const std::string endpoint =
        ">" + broker.wait_for(std::regex("service broker \\(Majordomo MDP/0.1\\) on (\\S+)"),
                              start_limit);
    broker.drain();

    echo_workers workers(endpoint);
    workers.grow_to(1);
    mdp_figures f;
    if (!mdp_latency(s, endpoint, payload, count, f)) {
        return 1;
    }
    std::atomic<long> lost{0};
    double cpu_before = broker.cpu_seconds();
    f.one_worker_per_second = mdp_throughput(endpoint, payload, count, 8, lost);
    f.one_worker_broker_us = (broker.cpu_seconds() - cpu_before) * 1e6 / static_cast<double>(count);
    workers.grow_to(4);
    cpu_before = broker.cpu_seconds();
    f.four_workers_per_second = mdp_throughput(endpoint, payload, count, 8, lost);
    f.four_workers_broker_us =
        (broker.cpu_seconds() - cpu_before) * 1e6 / static_cast<double>(count);
    if (s.json) {
        print_mdp_json(s, count, f, lost.load());
        return lost > 0 ? 1 : 0;
    }
    std::printf(
        "  p50 round trip, median of %d interleaved rounds: through the broker %.1f us, direct "
        "bare libzmq REQ/REP %.1f us (ratio %.2f, the median of the rounds' ratios: two hops "
        "instead of one)\n",
        f.rounds, f.broker_p50_us, f.bare_p50_us, f.ratio);
    std::printf(
        "  through the broker from a client on libzmq's REQ (as other ZeroMQ programs are) "
        "%.1f us (ratio %.2f)\n",
        f.libzmq_client_p50_us, f.libzmq_client_ratio);
    std::printf(
        "  requests/s with 8 clients: 1 worker %.0f, 4 workers %.0f (the broker's CPU per "
        "request: %.1f us, %.1f us)\n",
        f.one_worker_per_second, f.four_workers_per_second, f.one_worker_broker_us,
        f.four_workers_broker_us);
    if (lost > 0) {
        std::printf("  %ld requests got no reply within 5 s\n", lost.load());
        return 1;
    }
    return 0;
}

}  // namespace zpat::bench
