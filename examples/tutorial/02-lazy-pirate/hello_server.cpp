// Hello server: answers "Hello N" with "World N", and can be told to crash.
//
//   role:   replier (a ROUTER socket behind zpat::replier, answering like REP)
//   binds:  --endpoint (default tcp://*:5555)
//   option: --crash-after N: after N requests, exit at once without answering the next one,
//           as a server that dies mid-request would
//
// The ZeroMQ Guide's hwserver, plus a way to fail on purpose for the Lazy Pirate client.

#include <cstdlib>
#include <iostream>

#include "common/args.hpp"
#include "zpat/zpat.hpp"

int main(int argc, char** argv) {
    example::args args(
        argc, argv, "hello_server: answers \"Hello N\" with \"World N\", and can be told to crash");
    const std::string endpoint = args.text("--endpoint", "@tcp://*:5555", "Where to listen");
    const long crash_after =
        args.number("--crash-after", 0, "Crash on purpose after this many requests (0: never)", 0);
    args.check();

    zpat::replier server(example::bind_to(endpoint));
    std::cout << "server: ready" << std::endl;
    for (long served = 0;; ++served) {
        auto request = server.receive();
        if (!request) {
            return 0;
        }
        if (crash_after > 0 && served == crash_after) {
            std::cout << "server: crashing with '" << request->at(0) << "' unanswered" << std::endl;
            std::_Exit(1);  // no destructors, no goodbye: what a crash looks like to the client
        }
        std::string reply = request->at(0);
        reply.replace(0, 5, "World");
        std::cout << "server: " << request->at(0) << " -> " << reply << std::endl;
        server.reply({reply});
    }
}
