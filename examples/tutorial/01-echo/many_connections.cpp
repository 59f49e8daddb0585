// Many connections against one event-loop server: --connections clients at once, each sending
// --messages short messages, counting the bytes echoed back, and closing when it has them all.
//
//   role:     requesters, one raw+tcp connection each (zpat::requester)
//   connects: --endpoint (an echo_server on raw+tcp://)
//
// The tutorial's selector client, without the selector: each connection runs on its own thread
// here, and the server's single thread (the raw backend's event loop) answers them all.

#include <atomic>
#include <iostream>
#include <thread>
#include <vector>

#include "common/args.hpp"
#include "zpat/zpat.hpp"

int main(int argc, char** argv) {
    using namespace std::chrono_literals;
    const std::string endpoint =
        example::flag(argc, argv, "--endpoint", ">raw+tcp://127.0.0.1:6790");
    const long connections = example::flag(argc, argv, "--connections", 20L);
    const long messages = example::flag(argc, argv, "--messages", 5L);

    std::atomic<long> sent_bytes{0};
    std::atomic<long> echoed_bytes{0};
    std::vector<std::thread> clients;
    for (long c = 0; c < connections; ++c) {
        clients.emplace_back([&, c] {
            zpat::requester client(example::connect_to(endpoint), {.request_timeout = 5s});
            for (long m = 0; m < messages; ++m) {
                const std::string text =
                    "Message " + std::to_string(m) + " from client " + std::to_string(c) + ".";
                sent_bytes += static_cast<long>(text.size());
                if (auto reply = client.request({text}); reply && reply->front() == text) {
                    echoed_bytes += static_cast<long>(reply->front().size());
                }
            }
        });  // the requester closes its connection as the thread ends
    }
    for (auto& t : clients) {
        t.join();
    }
    std::cout << "many_connections: " << connections << " connections sent " << sent_bytes
              << " bytes and got " << echoed_bytes << " back" << std::endl;
    return sent_bytes == echoed_bytes ? 0 : 1;
}
