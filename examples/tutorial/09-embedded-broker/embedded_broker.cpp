// The broker inside an application.
//
//   roles:     zpat::broker::broker (a Majordomo service broker: one ROUTER; a pub-sub forwarder:
//              XSUB and XPUB), a service worker (DEALER), a service client (REQ), a publisher
//              (XPUB) and a subscriber (SUB), all in this one process
//   endpoints: inproc://services, inproc://publishers, inproc://subscribers: no ports, no other
//              process
//
// The application serves a service, calls it, publishes through the forwarder, and prints the
// broker's counters, as a dashboard would.

#include <iostream>
#include <thread>

#include "common/args.hpp"
#include "zpat/broker/broker.hpp"
#include "zpat/zpat.hpp"

int main(int argc, char** argv) {
    using namespace std::chrono_literals;
    example::args args(argc, argv,
                       "embedded-broker: a zpat broker inside a program, and its counters");
    args.check();

    zpat::broker::config cfg;
    cfg.service = zpat::broker::service_config{.endpoint = "inproc://services"};
    cfg.forwarder = zpat::broker::forwarder_config{.frontend = "inproc://publishers",
                                                   .backend = "inproc://subscribers"};
    zpat::broker::broker broker(cfg);  // binds now: a bad endpoint throws here
    broker.start();
    std::cout << "embedded: broker running (service broker and forwarder)" << std::endl;

    // A worker for "upper" on its own thread.
    zpat::service_worker worker(">inproc://services", "upper");
    std::thread serving([&] {
        worker.serve([](zpat::message request) {
            for (char& c : request.at(0)) {
                c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            }
            return request;
        });
    });

    zpat::service_client client(">inproc://services", {.request_timeout = 2s});
    for (const char* word : {"alpha", "beta", "gamma"}) {
        auto reply = client.request("upper", {word});
        std::cout << "embedded: upper(" << word << ") = " << (reply ? reply->front() : "(none)")
                  << std::endl;
    }

    // Publish through the forwarder to a subscriber of "news.".
    zpat::publisher pub(">inproc://publishers");
    zpat::subscriber sub("inproc://subscribers", {"news."});
    pub.wait_for_subscriptions(1, 2s);  // the subscription travelled up through the broker
    pub.publish("news.local", "sunny");
    pub.publish("sports.local", "filtered out before it left the publisher");
    if (auto msg = sub.receive(2s)) {
        std::cout << "embedded: subscriber got " << msg->at(0) << " " << msg->at(1) << std::endl;
    }

    worker.stop();
    serving.join();
    // Counters are readable from any thread while the broker runs; tables lag by up to 100 ms.
    std::this_thread::sleep_for(150ms);
    const zpat::broker::stats s = broker.counters();
    for (const auto& svc : s.service->services) {
        std::cout << "embedded: service '" << svc.name << "': " << svc.requests << " requests, "
                  << svc.replies << " replies, " << svc.workers << " workers now" << std::endl;
    }
    for (const auto& topic : s.forwarder->topics) {
        std::cout << "embedded: topic prefix '" << topic.prefix << "': " << topic.subscriptions
                  << " subscriber(s), " << topic.messages << " message(s) forwarded" << std::endl;
    }
    std::cout << "embedded: as JSON: " << zpat::broker::to_json(s) << std::endl;
    broker.stop();
}
