// Majordomo client: calls the "echo" service through a broker at tcp://localhost:5555 (or
// --endpoint) --count times, as in the Guide's mdclient. It first asks the broker's management
// interface (MMI) whether anyone serves "echo", so a missing worker is reported, not waited on.

#include <iostream>
#include <thread>

#include "common/args.hpp"
#include "zpat/zpat.hpp"

int main(int argc, char** argv) {
    example::args args(argc, argv, "mdclient: calls the echo service through a Majordomo broker");
    using namespace std::chrono_literals;
    const std::string broker =
        args.text("--endpoint", ">tcp://localhost:5555", "The Majordomo broker");
    const long count = args.number("--count", 10, "Requests to send", 1);
    args.check();

    zpat::service_client client(example::connect_to(broker),
                                {.request_timeout = 2500ms, .retries = 2});
    // mmi.service answers "200" when a worker serves the service, "404" when none does.
    for (int attempt = 0;; ++attempt) {
        auto status = client.request("mmi.service", {"echo"});
        if (!status) {
            std::cerr << "mdclient: no broker answers" << std::endl;
            return 1;
        }
        if (status->front() == "200") {
            break;
        }
        if (attempt == 20) {
            std::cerr << "mdclient: no worker serves 'echo'" << std::endl;
            return 1;
        }
        std::this_thread::sleep_for(100ms);  // a worker may be starting: ask again
    }
    for (long n = 0; n < count; ++n) {
        auto reply = client.request("echo", {"Hello world"});
        if (!reply) {
            std::cerr << "mdclient: no reply; giving up" << std::endl;
            return 1;
        }
        std::cout << "mdclient: reply " << n << ": " << reply->front() << std::endl;
    }
}
