// Echo server on the raw backend: answers every message with itself, over UDP or TCP.
//
//   role:   replier (zpat::replier on raw+udp:// or raw+tcp://: plain sockets, no ZeroMQ)
//   binds:  --endpoint (default raw+udp://127.0.0.1:6789, the tutorial's port)
//
// One thread serves every client: on TCP the raw backend's event loop (Asio) multiplexes all
// the connections; on UDP there are no connections at all, only datagrams and their senders.

#include <iostream>

#include "common/args.hpp"
#include "zpat/zpat.hpp"

int main(int argc, char** argv) {
    const std::string endpoint =
        example::flag(argc, argv, "--endpoint", "@raw+udp://127.0.0.1:6789");
    const long count = example::flag(argc, argv, "--count", 0L);  // 0: forever

    zpat::replier server(example::bind_to(endpoint));
    std::cout << "echo_server: listening on " << server.endpoints().front() << std::endl;
    for (long n = 0; count == 0 || n < count; ++n) {
        auto request = server.receive();
        if (!request) {
            break;
        }
        const std::string& text = request->front();
        std::cout << "echo_server: got '" << (text.size() > 40 ? text.substr(0, 40) + "..." : text)
                  << "' (" << request->byte_size() << " bytes)" << std::endl;
        server.reply(*request);
    }
}
