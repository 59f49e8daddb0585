// Echo client on the raw backend: sends "hi, server!" and prints what comes back.
//
//   role:     requester (zpat::requester on raw+udp:// or raw+tcp://)
//   connects: --endpoint (default raw+udp://127.0.0.1:6789)
//
// On UDP a datagram may be lost: the requester waits 500 ms and sends again with the same
// request id (the server answers a repeat from memory, without running twice). It also shows
// the two limits of a datagram: a message must fit in one, and nothing arrives in pieces.

#include <iostream>
#include <string>

#include "common/args.hpp"
#include "zpat/zpat.hpp"

int main(int argc, char** argv) {
    using namespace std::chrono_literals;
    const std::string endpoint =
        example::flag(argc, argv, "--endpoint", ">raw+udp://127.0.0.1:6789");

    zpat::requester client(example::connect_to(endpoint), {.request_timeout = 500ms, .retries = 3});
    auto reply = client.request({"hi, server!"});
    if (!reply) {
        std::cerr << "echo_client: no answer after " << client.last_attempts() << " attempts"
                  << std::endl;
        return 1;
    }
    std::cout << "echo_client: the server said '" << reply->front() << "' ("
              << client.last_attempts() << " attempt" << (client.last_attempts() > 1 ? "s" : "")
              << ")" << std::endl;

    // A message is delivered whole or not at all, on both transports. On UDP it must also fit
    // in one datagram; zpat refuses a larger one before sending, by name.
    const std::string large(100000, 'x');
    try {
        auto echoed = client.request({large});
        if (!echoed || echoed->front() != large) {
            std::cerr << "echo_client: the 100000-byte message "
                      << (echoed ? "came back changed" : "got no answer") << std::endl;
            return 1;
        }
        std::cout << "echo_client: a 100000-byte message came back whole (a stream has no size "
                     "limit per message)"
                  << std::endl;
    } catch (const zpat::message_size_error& e) {
        std::cout << "echo_client: refused: " << e.what() << std::endl;
    }
    return 0;
}
