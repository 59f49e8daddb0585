// Lazy Pirate client: request-reply that survives a server crash.
//
//   role:     requester (a REQ socket behind zpat::requester)
//   connects: --endpoint (default tcp://localhost:5555)
//   sends:    "Hello 0" .. "Hello N-1" (--count, default 10), one at a time
//
// A bare REQ socket whose request is lost waits for the reply forever. zpat's requester waits
// request_timeout (500 ms here) and then does what the Guide's Lazy Pirate does by hand: closes
// the socket, opens a fresh one and sends again, up to `retries` times (4 here) before it
// reports the server gone.

#include <iostream>

#include "common/args.hpp"
#include "zpat/zpat.hpp"

int main(int argc, char** argv) {
    example::args args(argc, argv,
                       "lazy_client: request-reply that survives a server crash (Lazy Pirate)");
    using namespace std::chrono_literals;
    const std::string endpoint =
        args.text("--endpoint", ">tcp://localhost:5555", "The server to connect to");
    const long count = args.number("--count", 10, "Requests to send", 1);
    args.check();

    zpat::requester client(example::connect_to(endpoint), {.request_timeout = 500ms, .retries = 4});
    for (long n = 0; n < count; ++n) {
        const std::string hello = "Hello " + std::to_string(n);
        auto reply = client.request({hello});
        if (!reply) {
            std::cout << "client: no answer to '" << hello << "' after " << client.last_attempts()
                      << " attempts: the server is gone, giving up" << std::endl;
            return 1;
        }
        std::cout << "client: " << hello << " -> " << reply->at(0);
        if (client.last_attempts() > 1) {
            std::cout << " (after " << client.last_attempts() - 1 << " retr"
                      << (client.last_attempts() > 2 ? "ies" : "y") << " on a fresh connection)";
        }
        std::cout << std::endl;
    }
    return 0;
}
