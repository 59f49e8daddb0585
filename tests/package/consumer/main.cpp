// Sends one message through an installed zpat, one through a forwarder of its own built from the
// installed device roles, and one request through an installed broker, and checks that all
// three arrive.
#include <chrono>
#include <thread>
#include <zpat/broker/broker.hpp>
#include <zpat/zpat.hpp>

using namespace std::chrono_literals;

// A pub-sub forwarder, as the broker's: subscriptions up through the x-roles, messages down
// through a relay.
bool own_forwarder() {
    zpat::xsubscriber upstream("@inproc://consumer-up");
    zpat::xpublisher downstream("@inproc://consumer-down");
    zpat::publisher pub(">inproc://consumer-up");
    zpat::subscriber sub(">inproc://consumer-down", {"t"});
    zpat::message subscription;
    if (!downstream.receive_subscription(subscription, 5s) || !upstream.send(subscription) ||
        !pub.wait_for_subscriptions(1, 5s) || !pub.publish("t", "through")) {
        return false;
    }
    zpat::relay link(upstream, downstream);
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (link.step().what != zpat::relayed::moved) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        std::this_thread::sleep_for(1ms);
    }
    auto got = sub.receive(5s);
    return got && got->at(1) == "through";
}

int main() {
    zpat::puller sink("@inproc://consumer");
    zpat::pusher source("inproc://consumer");
    source.send(zpat::message{"installed", zpat::pack(42)});
    auto got = sink.receive(5s);
    if (!got || zpat::unpack<int>(got->at(1)) != 42) {
        return 1;
    }

    if (!own_forwarder()) {
        return 1;
    }

    zpat::broker::config cfg;
    cfg.service = zpat::broker::service_config{.endpoint = "inproc://consumer-broker"};
    zpat::broker::broker broker(cfg);
    broker.start();
    zpat::service_worker worker(">inproc://consumer-broker", "echo");
    zpat::service_client client(">inproc://consumer-broker", {.request_timeout = 5s});
    std::optional<zpat::message> reply;
    std::thread caller([&] { reply = client.request("echo", {"hi"}); });
    if (auto request = worker.receive(5s)) {
        worker.reply(*request);
    }
    caller.join();
    return reply && reply->front() == "hi" ? 0 : 1;
}
