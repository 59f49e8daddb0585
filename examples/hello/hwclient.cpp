// Hello World client: a requester connected to tcp://localhost:5555 (or --endpoint). It sends
// "Hello" --count times (default 10) and waits for each "World", as in the Guide's hwclient.
// Unlike a bare REQ socket it gives up on a dead server instead of hanging forever.

#include <iostream>

#include "common/args.hpp"
#include "zpat/zpat.hpp"

int main(int argc, char** argv) {
    example::args args(argc, argv, "hwclient: the Guide's Hello World client (a requester)");
    using namespace std::chrono_literals;
    const std::string endpoint =
        args.text("--endpoint", ">tcp://localhost:5555", "The server to connect to");
    const long count = args.number("--count", 10, "Requests to send", 1);
    args.check();

    std::cout << "hwclient: connecting to the hello world server" << std::endl;
    // Each request waits up to 2.5 s for its reply and is retried twice on a fresh connection.
    zpat::requester client(example::connect_to(endpoint),
                           {.request_timeout = 2500ms, .retries = 2});

    for (long n = 0; n < count; ++n) {
        std::cout << "hwclient: sending Hello " << n << std::endl;
        auto reply = client.request(zpat::message{"Hello"});
        if (!reply) {
            std::cerr << "hwclient: the server did not answer; giving up" << std::endl;
            return 1;
        }
        std::cout << "hwclient: received " << reply->front() << " " << n << std::endl;
    }
}
