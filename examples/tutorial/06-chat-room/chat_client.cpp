// Chat client: everything you type goes to everyone else in the room, through the broker.
//
//   roles:     publisher (XPUB) to the broker's forwarder frontend, subscriber (SUB) to its
//              backend
//   connects:  --frontend (default tcp://127.0.0.1:5559), --backend (tcp://127.0.0.1:5560)
//   messages:  [room/<room>] [name] [text]; a text of "\x01left" says the sender has left
//
// The broker relays every message to every subscriber of the room; each client leaves out its
// own, so what you see is everyone else. A line "/quit" (or the end of input) says goodbye.
//
// --server ENDPOINT joins a plain chat room instead: the tutorials' chat server, or ours
// (chat_server), on raw+tcp:// or raw+udp://. Each line typed goes out as "<name>: <line>\n"
// and each line that comes is printed as it is; over UDP the first datagram says "<name>
// joined" and the last one "quit", as the tutorial's UDP room expects.

#include <unistd.h>

#include <atomic>
#include <functional>
#include <iostream>
#include <string>
#include <thread>

#include "common/args.hpp"
#include "zpat/zpat.hpp"

namespace {

constexpr std::string_view left_marker = "\x01left";
using namespace std::chrono_literals;

// Calls `line` for each line typed, and `received` whenever `room` has something, until the
// end of input, "/quit", or `ended`. Reads the descriptor itself: std::cin's buffer would hide
// lines from the poller.
template <class Room>
void converse(zpat::poller& poller, const Room& room, const std::function<void()>& received,
              const std::function<void(const std::string&)>& line, const bool& ended) {
    bool done = false;
    std::string typed;
    poller.add(room, received);
    poller.add_descriptor(STDIN_FILENO, [&] {
        char buffer[4096];
        const auto n = ::read(STDIN_FILENO, buffer, sizeof buffer);
        if (n <= 0) {
            done = true;
            return;
        }
        typed.append(buffer, static_cast<std::size_t>(n));
        for (auto end = typed.find('\n'); end != std::string::npos && !done;
             end = typed.find('\n')) {
            const std::string text = typed.substr(0, end);
            typed.erase(0, end + 1);
            done = text == "/quit";
            if (!done) {
                line(text);
            }
        }
    });
    while (!done && !ended) {
        poller.run_once(1s);
    }
}

// A member of a plain chat room: the tutorials' wire, lines of text.
int plain_room(const std::string& server, const std::string& name) {
    zpat::poller poller;
    if (zpat::backend_name(server) == "raw+udp") {
        zpat::datagram room(server);
        room.send(name + " joined\n");
        std::cout << name << ": joined " << server.substr(1) << std::endl;
        converse(
            poller, room,
            [&] {
                while (auto got = room.receive(0ms)) {
                    std::cout << got->bytes << std::flush;
                }
            },
            [&](const std::string& text) { room.send(name + ": " + text + "\n"); }, false);
        room.send("quit");
    } else {
        using type = zpat::stream::event::type;
        zpat::stream room(server);
        auto opened = room.receive(5s);
        if (!opened) {
            std::cerr << name << ": could not connect to " << server << std::endl;
            return 1;
        }
        std::cout << name << ": joined " << server.substr(1) << std::endl;
        bool closed = false;
        converse(
            poller, room,
            [&] {
                while (auto ev = room.receive(0ms)) {
                    closed = closed || ev->what == type::closed;
                    std::cout << ev->bytes << std::flush;
                }
            },
            [&](const std::string& text) {
                room.send(opened->connection, name + ": " + text + "\n");
            },
            closed);
        if (closed) {
            std::cout << name << ": the server closed the room" << std::endl;
            return 1;
        }
    }
    std::cout << name << ": left" << std::endl;
    return 0;
}

// A member of the room `topic` through the broker's forwarder.
int broker_room(const std::string& frontend, const std::string& backend, const std::string& name,
                const std::string& topic) {
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
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    example::args args(argc, argv,
                       "chat_client: a chat room member, through the broker or in a plain room");
    const std::string name = args.text("--name", "guest", "Your name in the room");
    const std::string server =
        args.text("--server", "",
                  "A plain chat room to join (raw+tcp:// or raw+udp://) instead of the broker");
    const std::string frontend = args.text("--frontend", ">tcp://127.0.0.1:5559",
                                           "The broker's forwarder frontend, to publish to");
    const std::string backend = args.text("--backend", ">tcp://127.0.0.1:5560",
                                          "The broker's forwarder backend, to subscribe to");
    const std::string room = args.text("--room", "lobby", "The room (a topic) to join");
    args.check();
    if (!server.empty()) {
        try {
            return plain_room(example::connect_to(server), name);
        } catch (const zpat::error& e) {
            std::cerr << name << ": " << e.what() << std::endl;
            return 1;
        }
    }
    return broker_room(frontend, backend, name, "room/" + room);
}
