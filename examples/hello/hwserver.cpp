// Hello World server: a replier bound to tcp://*:5555 (or --endpoint). It answers each "Hello"
// with "World", as in the ZeroMQ Guide's hwserver. Stops after --count requests (default: never).

#include <chrono>
#include <iostream>
#include <thread>

#include "common/args.hpp"
#include "zpat/zpat.hpp"

int main(int argc, char** argv) {
    example::args args(argc, argv, "hwserver: the Guide's Hello World server (a replier)");
    const std::string endpoint = args.text("--endpoint", "@tcp://*:5555", "Where to listen");
    const long count = args.number("--count", 0, "Requests to answer, then exit (0: never)", 0);
    const long work_ms = args.number("--work-ms", 100, "Milliseconds of 'work' per request", 0);
    args.check();

    // A replier binds: clients come and go, the server stays put.
    zpat::replier server(example::bind_to(endpoint));
    std::cout << "hwserver: listening on " << server.endpoints().front() << std::endl;

    for (long served = 0; count == 0 || served < count; ++served) {
        // Wait for the next request; a replier hands us one at a time.
        auto request = server.receive();
        if (!request) {
            break;  // interrupted
        }
        std::cout << "hwserver: received " << request->front() << std::endl;
        // Do some 'work'.
        std::this_thread::sleep_for(std::chrono::milliseconds(work_ms));
        // The reply goes back to whichever client asked.
        server.reply(zpat::message{"World"});
    }
}
