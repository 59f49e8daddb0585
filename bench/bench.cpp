#include "bench.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include <nlohmann/json.hpp>

#include "broker_bench.hpp"
#include "reqrep_bench.hpp"
#include "test_certificates.hpp"
#include "zpat/zpat.hpp"

namespace zpat::bench {

using clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

zmq::context_t& baseline_context() {
    static zmq::context_t context;
    return context;
}

std::string bind_address(const std::string& transport) {
    static int counter = 0;
    if (transport == "tcp") {
        return "tcp://127.0.0.1:*";
    }
    if (transport == "raw+tcp" || transport == "raw+tls") {
        return transport + "://127.0.0.1:*";
    }
    if (transport == "ipc") {
        return "ipc://*";
    }
    return "inproc://zpat-bench-" + std::to_string(counter++);
}

double percentile(std::vector<double> values, double p) {
    if (values.empty()) {
        return 0;
    }
    const auto index = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1));
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(index),
                     values.end());
    return values[index];
}

namespace {

const curve_keys& client_keys() {
    static const curve_keys keys = make_curve_keys();
    return keys;
}

// Throwaway certificates for raw+tls, in a directory removed at exit.
const testing::test_certificates& certificates() {
    struct directory {
        std::filesystem::path path =
            std::filesystem::temp_directory_path() / ("zpat-bench-" + std::to_string(::getpid()));
        testing::test_certificates made = make(path);
        static testing::test_certificates make(const std::filesystem::path& at) {
            std::filesystem::create_directories(at);
            return testing::make_test_certificates(at);
        }
        ~directory() {
            std::error_code ignored;
            std::filesystem::remove_all(path, ignored);
        }
    };
    static const directory dir;
    return dir.made;
}

// With settings::secure, the options of a server and of a client it lets in (CURVE over ZeroMQ,
// TLS over raw+tls); without, none. One key pair each for the whole run.
options server_side(const settings& s) {
    if (!s.secure) {
        return {};
    }
    if (s.transport == "raw+tls") {
        return {.tls = tls_options{.certificate = certificates().server,
                                   .private_key = certificates().server_key}};
    }
    static const curve_keys server = make_curve_keys();
    return {.curve = curve_options{.keys = server, .allowed_clients = {client_keys().public_key}}};
}
options client_side(const settings& s) {
    if (!s.secure) {
        return {};
    }
    if (s.transport == "raw+tls") {
        return {.tls = tls_options{.trusted_ca = certificates().ca}};
    }
    return {.curve = curve_options{.keys = client_keys(),
                                   .server_key = server_side(s).curve->keys.public_key}};
}

// ---- pipeline: one pusher, one puller --------------------------------------------------------

result zpat_pipeline(const settings& s, const std::string& payload) {
    puller sink("@" + bind_address(s.transport), server_side(s));
    pusher source(">" + sink.endpoints()[0], client_side(s));
    const message msg{payload};
    source.send(msg);
    message got;
    sink.receive(got, 5s);  // the connection is up: start the clock
    return timed_stream(
        s.count, [&] { source.send(msg); }, [&] { return sink.receive(got, idle_limit); });
}

result bare_pipeline(const settings& s, const std::string& payload) {
    zmq::context_t& context = baseline_context();
    zmq::socket_t sink(context, zmq::socket_type::pull);
    zmq::socket_t source(context, zmq::socket_type::push);
    sink.set(zmq::sockopt::rcvtimeo,
             static_cast<int>(std::chrono::milliseconds(idle_limit).count()));
    sink.bind(baseline_address(s.transport));
    source.connect(sink.get(zmq::sockopt::last_endpoint));
    zmq::message_t got;
    (void)source.send(zmq::buffer(payload));
    (void)sink.recv(got);
    return timed_stream(
        s.count, [&] { (void)source.send(zmq::buffer(payload)); },
        [&] { return sink.recv(got).has_value(); });
}

// ---- pub-sub: one publisher, one subscriber, lossless (the publisher waits when full) ---------

result zpat_pubsub(const settings& s, const std::string& payload) {
    options publishing = server_side(s);
    publishing.block_when_full = true;
    publisher pub("@" + bind_address(s.transport), publishing);
    subscriber sub(">" + pub.endpoints()[0], {""}, client_side(s));
    pub.wait_for_subscriptions(1, 5s);
    const message msg{"topic", payload};
    message got;
    return timed_stream(
        s.count, [&] { pub.send(msg); }, [&] { return sub.receive(got, idle_limit); });
}

result bare_pubsub(const settings& s, const std::string& payload) {
    zmq::context_t& context = baseline_context();
    zmq::socket_t pub(context, zmq::socket_type::xpub);
    zmq::socket_t sub(context, zmq::socket_type::sub);
    pub.set(zmq::sockopt::xpub_nodrop, 1);
    sub.set(zmq::sockopt::rcvtimeo,
            static_cast<int>(std::chrono::milliseconds(idle_limit).count()));
    pub.bind(baseline_address(s.transport));
    sub.set(zmq::sockopt::subscribe, "");
    sub.connect(pub.get(zmq::sockopt::last_endpoint));
    zmq::message_t subscription;
    (void)pub.recv(subscription);  // the subscriber has joined
    zmq::message_t got;
    return timed_stream(
        s.count,
        [&] {
            (void)pub.send(zmq::str_buffer("topic"), zmq::send_flags::sndmore);
            (void)pub.send(zmq::buffer(payload));
        },
        [&] { return sub.recv(got).has_value() && sub.recv(got).has_value(); });
}

// ---- request-reply: one requester, one replier, round trips one at a time -------------------

result zpat_reqrep(const settings& s, const std::string& payload) {
    replier server("@" + bind_address(s.transport), server_side(s));
    std::thread serving([&] { server.serve([](message request) { return request; }); });
    options asking = client_side(s);
    asking.request_timeout = 5s;
    asking.retries = 0;
    requester client(">" + server.endpoints()[0], asking);
    const message request{payload};
    client.request(request);  // warm-up: connection established
    result r = timed_round_trips(s.count, [&] { return client.request(request).has_value(); });
    server.stop();
    serving.join();
    return r;
}

// ---- reporting -----------------------------------------------------------------------------

struct summary {
    double messages_per_second = 0;  // median over rounds
    double best_per_second = 0;
    double cpu_us_per_message = 0;          // median over rounds
    double middle_cpu_us_per_message = -1;  // the broker's or proxy's, where one runs apart
    double p50_us = 0;
    double p99_us = 0;
    long least_delivered = 0;
    long expected = 0;  // what every round should have delivered
    long count = 0;     // messages (or round trips) a round
};

summary summarise(const std::vector<result>& rounds, long count) {
    summary s;
    std::vector<double> rates;
    std::vector<double> cpu_costs;
    std::vector<double> latencies;
    std::vector<double> middle_costs;
    s.count = count;
    s.least_delivered = rounds.empty() ? 0 : rounds.front().delivered;
    s.expected = rounds.empty() || rounds.front().expected == 0 ? count : rounds.front().expected;
    for (const result& r : rounds) {
        rates.push_back(static_cast<double>(r.delivered) / r.seconds);
        cpu_costs.push_back(r.cpu_seconds * 1e6 / static_cast<double>(std::max(1L, r.delivered)));
        latencies.insert(latencies.end(), r.latencies_us.begin(), r.latencies_us.end());
        if (r.middle_cpu_seconds >= 0) {
            middle_costs.push_back(r.middle_cpu_seconds * 1e6 /
                                   static_cast<double>(std::max(1L, r.delivered)));
        }
        s.least_delivered = std::min(s.least_delivered, r.delivered);
    }
    s.messages_per_second = percentile(rates, 0.5);
    s.best_per_second = percentile(rates, 1.0);
    s.cpu_us_per_message = percentile(cpu_costs, 0.5);
    s.p50_us = percentile(latencies, 0.5);
    s.p99_us = percentile(latencies, 0.99);
    if (!middle_costs.empty()) {
        s.middle_cpu_us_per_message = percentile(middle_costs, 0.5);
    }
    return s;
}

const char* name_of(pattern p) {
    switch (p) {
        case pattern::pipeline:
            return "pipeline (push -> pull)";
        case pattern::pubsub:
            return "pub-sub (publisher -> subscriber, lossless)";
        case pattern::reqrep:
            return "request-reply (one round trip at a time)";
        case pattern::broker_pubsub:
            return "pub-sub through a broker process (zpat-broker's forwarder vs a zmq_proxy "
                   "XSUB/XPUB process and a plain relay, lossless)";
        case pattern::broker_fanout:
            return "pub-sub fan-out through a broker process (1 publisher to 10 subscribers; "
                   "zpat-broker's forwarder vs a zmq_proxy process, lossless)";
        case pattern::broker_fanin:
            return "pub-sub fan-in through a broker process (10 publishers to 1 subscriber, half "
                   "the messages on a topic it wants; zpat-broker's forwarder vs a zmq_proxy "
                   "process, lossless)";
        case pattern::broker_mdp:
            return "Majordomo echo through the broker";
    }
    return "";
}

// A comparison is only worth printing when both sides cross the same transport (raw+tcp is
// measured against libzmq's tcp: that is the comparison it exists for).
const char* key_of(pattern p);

void refuse_unmeasurable(const settings& s) {
    const bool fan = s.shape == pattern::broker_fanout || s.shape == pattern::broker_fanin;
    if (s.secure && (s.shape == pattern::broker_pubsub || fan || s.shape == pattern::broker_mdp)) {
        throw unsupported_error("--secure measures pipeline, pubsub and reqrep");
    }
    if (s.secure && s.transport == "inproc") {
        throw unsupported_error(
            "--secure over inproc: nothing leaves the process, so there is nothing to secure");
    }
    if ((s.shape == pattern::broker_pubsub || fan) && s.transport == "inproc") {
        throw unsupported_error(
            std::string(key_of(s.shape)) +
            " over inproc: the broker runs as a process of its own, which an inproc peer "
            "cannot reach; use tcp, ipc or raw+tcp");
    }
    if (s.shape == pattern::broker_mdp && s.transport != "tcp") {
        throw unsupported_error("broker-mdp over " + s.transport +
                                ": the Majordomo benchmark runs over tcp only");
    }
}

}  // namespace

std::string baseline_address(const std::string& transport) {
    return bind_address(transport == "raw+tcp" ? "tcp" : transport);
}

result bare_reqrep(const settings& s, const std::string& payload) {
    zmq::context_t& context = baseline_context();
    zmq::socket_t rep(context, zmq::socket_type::rep);
    rep.bind(baseline_address(s.transport));
    zmq::socket_t req(context, zmq::socket_type::req);
    req.set(zmq::sockopt::rcvtimeo, 5000);
    req.connect(rep.get(zmq::sockopt::last_endpoint));
    const long total = s.count + 1;
    std::thread serving([&] {
        zmq::message_t msg;
        for (long i = 0; i < total && rep.recv(msg); ++i) {
            (void)rep.send(msg, zmq::send_flags::none);
        }
    });
    zmq::message_t reply;
    (void)req.send(zmq::buffer(payload));
    (void)req.recv(reply);
    result r = timed_round_trips(s.count, [&] {
        (void)req.send(zmq::buffer(payload));
        return req.recv(reply).has_value();
    });
    serving.join();
    return r;
}

namespace {

using runner = result (*)(const settings&, const std::string&);

// The baseline and zpat's side of a shape (broker-mdp is measured apart, by run_mdp).
// Request-reply runs its replier in a process of its own wherever a process can reach it and no
// keys must be handed over (--secure measures zpat against zpat, in one process).
std::pair<runner, runner> runners_of(const settings& s) {
    if (s.shape == pattern::reqrep && s.transport != "inproc" && !s.secure) {
        return {bare_reqrep_apart, zpat_reqrep_apart};
    }
    switch (s.shape) {
        case pattern::broker_pubsub:
        case pattern::broker_fanout:
        case pattern::broker_fanin:
            return {bare_proxy_pubsub, broker_pubsub};
        case pattern::pubsub:
            return {bare_pubsub, zpat_pubsub};
        case pattern::reqrep:
            return {bare_reqrep, zpat_reqrep};
        default:
            return {bare_pipeline, zpat_pipeline};
    }
}

// The limit a shape is also measured against, or none: for pub-sub through a broker over tcp, a
// plain relay of the raw wire between plain ends.
runner limit_of(const settings& s) {
    const bool tcp = s.transport == "tcp" || s.transport == "raw+tcp";
    return s.shape == pattern::broker_pubsub && tcp ? relay_pubsub : nullptr;
}

void print_rounds(const std::vector<result>& bare_rounds, const std::vector<result>& zpat_rounds) {
    for (std::size_t i = 0; i < bare_rounds.size(); ++i) {
        std::printf("  round %2zu: bare %10.0f  zpat %10.0f msgs/s\n", i + 1,
                    static_cast<double>(bare_rounds[i].delivered) / bare_rounds[i].seconds,
                    static_cast<double>(zpat_rounds[i].delivered) / zpat_rounds[i].seconds);
    }
}

// Whether every round of every side delivered all it should have.
bool all_delivered(const summary& b, const summary& z, const std::optional<summary>& limit) {
    return b.least_delivered == b.expected && z.least_delivered == z.expected &&
           (!limit || limit->least_delivered == limit->expected);
}

// The name `zpat bench` takes for the shape.
const char* key_of(pattern p) {
    switch (p) {
        case pattern::pipeline:
            return "pipeline";
        case pattern::pubsub:
            return "pubsub";
        case pattern::reqrep:
            return "reqrep";
        case pattern::broker_pubsub:
            return "broker-pubsub";
        case pattern::broker_fanout:
            return "broker-fanout";
        case pattern::broker_fanin:
            return "broker-fanin";
        case pattern::broker_mdp:
            return "broker-mdp";
    }
    return "";
}

// The limit's row: a relay of the raw wire written on plain sockets, with plain ends.
constexpr const char* limit_label = "plain relay";

bool through_broker(pattern p) {
    return p == pattern::broker_pubsub || p == pattern::broker_fanout || p == pattern::broker_fanin;
}

const char* base_label_of(const settings& s) {
    if (through_broker(s.shape)) {
        return "zmq_proxy";
    }
    return s.secure ? "zpat" : "bare libzmq";
}
const char* our_label_of(const settings& s) {
    if (through_broker(s.shape)) {
        return "zpat-broker";
    }
    return !s.secure ? "zpat" : s.transport == "raw+tls" ? "zpat + TLS" : "zpat + CURVE";
}

// The same figures as report() prints, as one JSON object on one line.
int report_json(const settings& s, const settings& baseline, const summary& b, const summary& z,
                const std::optional<summary>& limit) {
    const double megabytes = static_cast<double>(s.message_size) / 1e6;
    const auto side = [&](const char* label, const std::string& transport, const summary& row) {
        nlohmann::json out{{"label", label},
                           {"transport", transport},
                           {"messages_per_second", row.messages_per_second},
                           {"best_messages_per_second", row.best_per_second},
                           {"megabytes_per_second", row.messages_per_second * megabytes},
                           {"cpu_us_per_message", row.cpu_us_per_message},
                           {"count", row.count},
                           {"least_delivered", row.least_delivered},
                           {"expected", row.expected}};
        if (s.shape == pattern::reqrep) {
            out["p50_us"] = row.p50_us;
            out["p99_us"] = row.p99_us;
        }
        if (row.middle_cpu_us_per_message >= 0) {
            out["broker_cpu_us_per_message"] = row.middle_cpu_us_per_message;
        }
        return out;
    };
    nlohmann::json ratios{{"throughput", z.messages_per_second / b.messages_per_second},
                          {"best_rounds", z.best_per_second / b.best_per_second}};
    if (z.middle_cpu_us_per_message >= 0) {  // the ends may differ; the broker's CPU compares
        ratios["broker_cpu_per_message"] =
            z.middle_cpu_us_per_message / b.middle_cpu_us_per_message;
    } else {
        ratios["cpu_per_message"] = z.cpu_us_per_message / b.cpu_us_per_message;
    }
    if (s.shape == pattern::reqrep) {
        ratios["p50_latency"] = z.p50_us / b.p50_us;
    }
    const bool lossless = all_delivered(b, z, limit);
    nlohmann::json out{
        {"shape", key_of(s.shape)},
        {"message_size", s.message_size},
        {"count", s.count},
        {"rounds", s.rounds},
        {"baseline",
         side(base_label_of(s),
              s.secure || baseline.transport != "raw+tcp" ? baseline.transport : "tcp", b)},
        {"measured", side(our_label_of(s), s.transport, z)},
        {"ratios", ratios},
        {"lossless", lossless}};
    if (limit) {
        out["limit"] = side(limit_label, "tcp", *limit);
        out["ratios"]["of_limit"] = z.messages_per_second / limit->messages_per_second;
        out["ratios"]["broker_cpu_of_limit"] =
            z.middle_cpu_us_per_message / limit->middle_cpu_us_per_message;
    }
    std::printf("%s\n", out.dump().c_str());
    return lossless ? 0 : 1;
}

// Prints the table and the ratios. Returns the exit status: 1 when a message went missing.
int report(const settings& s, const summary& b, const summary& z,
           const std::optional<summary>& limit) {
    const char* const base_label = base_label_of(s);
    const char* const our_label = our_label_of(s);
    const bool reqrep = s.shape == pattern::reqrep;
    const bool middle = z.middle_cpu_us_per_message >= 0;
    const double megabytes = static_cast<double>(s.message_size) / 1e6;
    std::printf("  %-14s %14s %10s %12s", "", "msgs/s", "MB/s",
                middle ? "ends us/msg" : "CPU us/msg");
    if (reqrep) {
        std::printf(" %10s %10s", "p50 us", "p99 us");
    }
    if (middle) {
        std::printf(" %13s", "broker us/msg");
    }
    std::printf(" %12s\n", "delivered");
    std::vector<std::pair<const char*, summary>> rows{{base_label, b}, {our_label, z}};
    if (limit) {
        rows.emplace_back(limit_label, *limit);
    }
    for (const auto& [label, row] : rows) {
        std::printf("  %-14s %14.0f %10.1f %12.3f", label, row.messages_per_second,
                    row.messages_per_second * megabytes, row.cpu_us_per_message);
        if (reqrep) {
            std::printf(" %10.1f %10.1f", row.p50_us, row.p99_us);
        }
        if (middle) {
            std::printf(" %13.3f", row.middle_cpu_us_per_message);
        }
        std::printf(" %6ld/%-6ld\n", row.least_delivered, row.expected);
    }
    std::printf("  %s / %s: throughput %.3f (best rounds %.3f)", our_label, base_label,
                z.messages_per_second / b.messages_per_second,
                z.best_per_second / b.best_per_second);
    if (reqrep) {
        std::printf(", p50 latency %.3f", z.p50_us / b.p50_us);
    }
    if (middle) {  // the ends may differ; the broker's own CPU is the comparison
        std::printf(", the broker's CPU per message %.3f\n",
                    z.middle_cpu_us_per_message / b.middle_cpu_us_per_message);
    } else {
        std::printf(", CPU per message %.3f\n", z.cpu_us_per_message / b.cpu_us_per_message);
    }
    if (limit) {
        std::printf("  %s / %s (the limit): throughput %.3f, the broker's CPU per message %.3f\n",
                    our_label, limit_label, z.messages_per_second / limit->messages_per_second,
                    z.middle_cpu_us_per_message / limit->middle_cpu_us_per_message);
    }
    const bool lossless = all_delivered(b, z, limit);
    if (!lossless) {
        std::printf("  some messages did not arrive within %llds of the previous one\n",
                    static_cast<long long>(idle_limit.count()));
    }
    return lossless ? 0 : 1;
}

// One side of a comparison: how to run a round of it, and with what settings.
struct side {
    const settings* with;
    runner run;
};

// Runs `rounds` of each side, rotating which goes first so that none always gets the warmer
// machine; shows the rounds done on stderr when it is a terminal (a log or a pipe gets the
// results alone). Returns each side's rounds, in the order given.
std::vector<std::vector<result>> interleaved(const std::vector<side>& sides, int rounds,
                                             const std::string& payload) {
    const bool progress = ::isatty(STDERR_FILENO) == 1;
    std::vector<std::vector<result>> results(sides.size());
    for (int round = 0; round < rounds; ++round) {
        for (std::size_t i = 0; i < sides.size(); ++i) {
            const std::size_t which = (i + static_cast<std::size_t>(round)) % sides.size();
            results[which].push_back(sides[which].run(*sides[which].with, payload));
        }
        if (progress) {
            std::fprintf(stderr, "\r  round %d of %d", round + 1, rounds);
        }
    }
    if (progress) {
        std::fprintf(stderr, "\r%*s\r", 24, "");
    }
    return results;
}

// How long a round lasts at least, unless --count is given: long enough to reach steady state
// and to span many scheduler ticks. At a fixed 300,000 messages the plain relay's rounds took
// 5 ms and zpat-broker's raw rounds 30 ms, both mostly start-up.
constexpr double least_round_seconds = 0.2;
constexpr long most_per_round = 20'000'000;  // bounds a round whatever the warm-up measured

// Runs one untimed round of each side, then gives a side that finished it in under
// least_round_seconds as many messages a round as it moves in that time (a copy of its settings
// in `own`, which must hold one element per side).
void size_rounds(std::vector<side>& sides, std::vector<settings>& own, const std::string& payload) {
    for (std::size_t i = 0; i < sides.size(); ++i) {
        own[i] = *sides[i].with;
        const result warm = sides[i].run(own[i], payload);
        if (warm.delivered > 0 && warm.seconds > 0 && warm.seconds < least_round_seconds) {
            const double wanted =
                static_cast<double>(own[i].count) * least_round_seconds / warm.seconds;
            const long thousands = static_cast<long>(std::ceil(wanted / 1000.0));
            own[i].count = std::min(most_per_round, std::max(own[i].count, thousands * 1000));
        }
        sides[i].with = &own[i];
    }
}

// What `run` measures, before the rounds: the shape, its transport and sizes, and the ends.
void print_heading(const settings& s, const settings& baseline, bool sized) {
    const bool tls = s.transport == "raw+tls";
    std::printf("%s over %s%s: %zu-byte messages, %s%ld per round%s, median of %d rounds\n",
                name_of(s.shape), baseline.transport.c_str(),
                !s.secure ? ""
                : tls     ? ", TLS (raw+tls) against none"
                          : ", CURVE against none",
                s.message_size, sized ? "at least " : "", s.count,
                sized ? " (more for a side that moves them in under 0.2 s)" : "", s.rounds);
    if (s.shape == pattern::broker_pubsub) {
        const bool raw = s.transport == "raw+tcp";
        std::printf("  ends: bare libzmq for zmq_proxy%s", raw ? "" : " and zpat-broker");
        if (limit_of(s) != nullptr) {
            std::printf("; plain raw-wire writers and readers for %sthe plain relay (the limit)",
                        raw ? "zpat-broker and " : "");
        }
        std::printf("\n");
    }
    std::fflush(stdout);
}

}  // namespace

int run(const settings& requested) {
    settings s = requested;
    // Many rounds, not a few long ones: on a shared machine a whole round can land on a bad
    // moment, and the median of many interleaved rounds is what stays put between runs. Each
    // round still lasts least_round_seconds (size_rounds); round trips, timed one by one, need
    // no sizing.
    const bool sized = s.count <= 0 && s.shape != pattern::reqrep;
    if (s.count <= 0) {
        s.count = s.shape == pattern::reqrep ? 10000 : 300000;
    }
    if (s.rounds <= 0) {
        s.rounds = s.shape == pattern::reqrep ? 11 : 21;
    }
    const std::string payload(s.message_size, 'x');
    refuse_unmeasurable(s);
    if (s.shape == pattern::broker_mdp) {
        return run_mdp(requested);
    }
    auto [bare, ours] = runners_of(s);
    // --secure: zpat without security is the baseline, zpat with CURVE (ZeroMQ) or TLS (raw
    // TCP) the side measured.
    settings baseline = s;
    baseline.secure = false;
    const bool tls = s.secure && s.transport == "raw+tcp";
    if (s.secure) {
        bare = ours;
        s.transport = tls ? "raw+tls" : s.transport;
    }
    if (!s.json) {
        print_heading(s, baseline, sized);
    }
    std::vector<side> sides{{&baseline, bare}, {&s, ours}};
    if (const runner limit = limit_of(s); limit != nullptr) {
        sides.push_back({&s, limit});
    }
    std::vector<settings> own(sides.size());
    if (sized) {
        size_rounds(sides, own, payload);
    }
    const auto rounds = interleaved(sides, s.rounds, payload);
    const summary b = summarise(rounds[0], sides[0].with->count);
    const summary z = summarise(rounds[1], sides[1].with->count);
    const std::optional<summary> l = rounds.size() > 2
                                         ? std::optional(summarise(rounds[2], sides[2].with->count))
                                         : std::nullopt;
    if (s.json) {
        return report_json(s, baseline, b, z, l);
    }
    if (s.show_rounds) {
        print_rounds(rounds[0], rounds[1]);
    }
    return report(s, b, z, l);
}

}  // namespace zpat::bench
