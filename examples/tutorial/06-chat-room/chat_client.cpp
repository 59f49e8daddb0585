// Chat client: everything you type goes to everyone else in the room, through the broker.
//
//   roles:     publisher (XPUB) to the broker's forwarder frontend, subscriber (SUB) to its
//              backend
//   connects:  --frontend (default tcp://127.0.0.1:5559), --backend (tcp://127.0.0.1:5560)
//   messages:  [room/<room>] [name] [text]; a text of "\x01left" says the sender has left
//
// The broker relays every message to every subscriber of the room; each client leaves out its
// own, so what you see is everyone else. A line "/quit" (or the end of input) says goodbye.

#include <atomic>
#include <iostream>
#include <string>
#include <thread>

#include "common/args.hpp"
#include "zpat/zpat.hpp"

namespace {

constexpr std::string_view left_marker = "\x01left";

}  // namespace

int main(int argc, char** argv) {
    using namespace std::chrono_literals;
    const std::string frontend = example::flag(argc, argv, "--frontend", ">tcp://127.0.0.1:5559");
    const std::string backend = example::flag(argc, argv, "--backend", ">tcp://127.0.0.1:5560");
    const std::string name = example::flag(argc, argv, "--name", "guest");
    const std::string topic = "room/" + example::flag(argc, argv, "--room", "lobby");

    zpat::publisher out(example::connect_to(frontend));
    std::atomic<bool> heard_myself{false};
    std::atomic<bool> leaving{false};

    // The listening half runs on its own thread, with its own socket: one socket, one thread.
    std::thread listener([&] {
        zpat::subscriber in(example::connect_to(backend), {topic});
        while (!leaving) {
            auto msg = in.receive(100ms);
            if (!msg || msg->size() != 3) {
                continue;
            }
            const std::string& from = msg->at(1);
            const std::string& text = msg->at(2);
            if (from == name) {
                heard_myself = true;  // my own words came back: the path is up
            } else if (text == left_marker) {
                std::cout << "* " << from << " left" << std::endl;
            } else if (!text.empty()) {
                std::cout << "[" << from << "] " << text << std::endl;
            }
        }
    });

    // Joining: say an empty line until it comes back through the broker. Until then, what we
    // say could be lost (the slow joiner of step 4, once per hop).
    for (int attempt = 0; attempt < 100 && !heard_myself; ++attempt) {
        out.send({topic, name, ""});
        std::this_thread::sleep_for(50ms);
    }
    if (!heard_myself) {
        std::cerr << name << ": the broker did not relay anything; is zpat-broker running?"
                  << std::endl;
        leaving = true;
        listener.join();
        return 1;
    }
    std::cout << name << ": joined " << topic << std::endl;

    std::string line;
    while (std::getline(std::cin, line) && line != "/quit") {
        out.send({topic, name, line});
    }
    out.send({topic, name, std::string(left_marker)});
    leaving = true;
    listener.join();
    std::cout << name << ": left" << std::endl;
}
