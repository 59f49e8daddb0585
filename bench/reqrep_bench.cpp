#include "reqrep_bench.hpp"

#include <csignal>
#include <cstdio>
#include <regex>
#include <thread>
#include <zmq.hpp>

#include "child_process.hpp"
#include "zpat/zpat.hpp"

namespace zpat::bench {
namespace {

using namespace std::chrono_literals;

// The replier process of `kind`, started and listening; its endpoint.
struct replier_process {
    child_process process;
    std::string endpoint;

    replier_process(const char* kind, const std::string& transport)
        : process({this_program(), "bench-proxy", "--kind", kind, "--transport", transport}),
          endpoint(process.wait_for(std::regex("^endpoint (\\S+)"), start_limit)) {
        process.drain();
    }
};

// The round trips of one round, with the replier's CPU over the same window added to the
// requester's: the whole cost of a round trip, on both sides.
template <class RoundTrip>
result measured(const replier_process& replier, long count, RoundTrip round_trip) {
    const double replier_before = replier.process.cpu_seconds();
    result r = timed_round_trips(count, round_trip);
    r.cpu_seconds += replier.process.cpu_seconds() - replier_before;
    return r;
}

void announce(const std::string& endpoint) {
    std::printf("endpoint %s\n", endpoint.c_str());
    std::fflush(stdout);
}

}  // namespace

result bare_reqrep_apart(const settings& s, const std::string& payload) {
    const replier_process replier("rep", s.transport == "ipc" ? "ipc" : "tcp");
    zmq::socket_t req(baseline_context(), zmq::socket_type::req);
    req.set(zmq::sockopt::rcvtimeo, 5000);
    req.set(zmq::sockopt::linger, 0);
    req.connect(replier.endpoint);
    zmq::message_t reply;
    (void)req.send(zmq::buffer(payload));  // warm-up: connection established
    (void)req.recv(reply);
    return measured(replier, s.count, [&] {
        (void)req.send(zmq::buffer(payload));
        return req.recv(reply).has_value();
    });
}

result zpat_reqrep_apart(const settings& s, const std::string& payload) {
    const replier_process replier("replier", s.transport);
    requester client(">" + replier.endpoint, {.request_timeout = 5s, .retries = 0});
    const message request{payload};
    client.request(request);  // warm-up: connection established
    return measured(replier, s.count, [&] { return client.request(request).has_value(); });
}

int run_replier_process(const std::string& kind, const std::string& transport) {
    // SIGTERM ends the replier: blocked here, before any thread inherits the mask, and taken by
    // a thread that stops the serving loop.
    sigset_t stop{};
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);
    const auto on_stop = [&stop](auto stopping) {
        return std::thread([&stop, stopping] {
            int received = 0;
            sigwait(&stop, &received);
            stopping();
        });
    };
    if (kind == "rep") {
        zmq::context_t context;
        zmq::socket_t rep(context, zmq::socket_type::rep);
        rep.bind(baseline_address(transport));
        announce(rep.get(zmq::sockopt::last_endpoint));
        std::thread stopper = on_stop([&context] { context.shutdown(); });
        zmq::message_t msg;
        try {
            while (rep.recv(msg)) {
                (void)rep.send(msg, zmq::send_flags::none);
            }
        } catch (const zmq::error_t& e) {
            if (e.num() != ETERM) {
                throw;
            }
        }
        stopper.join();
        return 0;
    }
    replier server("@" + bind_address(transport));
    announce(server.endpoints()[0]);
    std::thread stopper = on_stop([&server] { server.stop(); });
    server.serve([](message request) { return request; });
    stopper.join();
    return 0;
}

}  // namespace zpat::bench
