// Conversion client: asks the "celsius.to.fahrenheit" service for each temperature in turn.
//
//   role:     Majordomo client (a REQ socket, through zpat::service_client)
//   connects: --broker (default tcp://127.0.0.1:5555)
//   sends:    --count temperatures (0, 5, 10, ... C), one every --every-ms milliseconds
//
// Each request waits up to a second for its answer and is retried up to three times on a fresh
// connection (the Lazy Pirate pattern): a worker that dies holding a request costs the client a
// second, not the answer. It exits 1 if any temperature went unanswered.

#include <iostream>
#include <thread>

#include "common/args.hpp"
#include "zpat/zpat.hpp"

int main(int argc, char** argv) {
    using namespace std::chrono_literals;
    const std::string broker = example::flag(argc, argv, "--broker", ">tcp://127.0.0.1:5555");
    const long count = example::flag(argc, argv, "--count", 10L);
    const long every_ms = example::flag(argc, argv, "--every-ms", 200L);

    zpat::service_client client(example::connect_to(broker), {.request_timeout = 1s, .retries = 3});
    long answered = 0;
    for (long i = 0; i < count; ++i) {
        const std::string celsius = std::to_string(i * 5);
        const auto start = std::chrono::steady_clock::now();
        auto reply = client.request("celsius.to.fahrenheit", {celsius});
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - start)
                            .count();
        if (!reply) {
            std::cout << "client: " << celsius << " C -> no answer" << std::endl;
            continue;
        }
        ++answered;
        std::cout << "client: " << celsius << " C = " << reply->at(0) << " F (" << ms << " ms, "
                  << client.last_attempts() << " attempt" << (client.last_attempts() > 1 ? "s" : "")
                  << ")" << std::endl;
        std::this_thread::sleep_for(std::chrono::milliseconds(every_ms));
    }
    std::cout << "client: " << answered << " of " << count << " answered" << std::endl;
    return answered == count ? 0 : 1;
}
