// Sends one message through an installed zpat, and one request through an installed broker,
// and checks that both arrive.
#include <thread>
#include <zpat/broker/broker.hpp>
#include <zpat/zpat.hpp>

int main() {
    using namespace std::chrono_literals;
    zpat::puller sink("@inproc://consumer");
    zpat::pusher source("inproc://consumer");
    source.send(zpat::message{"installed", zpat::pack(42)});
    auto got = sink.receive(5s);
    if (!got || zpat::unpack<int>(got->at(1)) != 42) {
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
