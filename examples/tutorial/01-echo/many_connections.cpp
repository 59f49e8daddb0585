// Many connections against one event-loop server: --connections clients at once, each sending
// --messages short messages, counting the bytes echoed back, and closing when it has them all.
//
//   connects: --endpoint (an echo server on raw+tcp://, ours or the tutorial's multiconn server)
//   --wire plain (the default): plain bytes, as the tutorial's multiconn client sends them: all
//           messages at once, then reads until every byte came back (zpat::stream).
//   --wire zpat: one request and its reply at a time, in zpat's framing (zpat::requester).
//
// The tutorial's selector client, without the selector: each connection runs on its own thread
// here, and the server's single thread (the raw backend's event loop) answers them all.

#include <atomic>
#include <iostream>
#include <thread>
#include <vector>

#include "common/args.hpp"
#include "zpat/zpat.hpp"

namespace {

using namespace std::chrono_literals;

std::string text_of(long message, long connection) {
    return "Message " + std::to_string(message) + " from client " + std::to_string(connection) +
           ".";
}

// Returns the bytes echoed back on one plain connection.
long plain_connection(const std::string& endpoint, long c, long messages, std::atomic<long>& sent) {
    std::vector<std::string> texts;
    std::size_t total = 0;
    for (long m = 0; m < messages; ++m) {
        texts.push_back(text_of(m, c));
        total += texts.back().size();
    }
    sent += static_cast<long>(total);
    zpat::stream client(endpoint);
    auto opened = client.receive(5s);
    if (!opened) {
        std::cerr << "many_connections: could not connect to " << endpoint << " within 5 s"
                  << std::endl;
        return 0;
    }
    for (const auto& text : texts) {
        client.send(opened->connection, text);
    }
    std::size_t echoed = 0;
    while (echoed < total) {
        auto ev = client.receive(5s);
        if (!ev || ev->what != zpat::stream::event::type::data) {
            break;
        }
        echoed += ev->bytes.size();
    }
    return static_cast<long>(echoed);
}

long framed_connection(const std::string& endpoint, long c, long messages,
                       std::atomic<long>& sent) {
    zpat::requester client(endpoint, {.request_timeout = 5s});
    long echoed = 0;
    for (long m = 0; m < messages; ++m) {
        const std::string text = text_of(m, c);
        sent += static_cast<long>(text.size());
        if (auto reply = client.request({text}); reply && reply->front() == text) {
            echoed += static_cast<long>(reply->front().size());
        }
    }
    return echoed;
}

}  // namespace

int main(int argc, char** argv) {
    example::args args(argc, argv,
                       "many_connections: many connections at once against one echo server");
    const std::string endpoint = example::connect_to(args.text(
        "--endpoint", "raw+tcp://127.0.0.1:6790", "The echo server, raw+tcp://HOST:PORT"));
    const std::string wire =
        args.text("--wire", "plain",
                  "plain (bare bytes, as the tutorials' programs) or zpat (zpat's framing)");
    const long connections = args.number("--connections", 20, "Connections to open at once", 1);
    const long messages = args.number("--messages", 5, "Messages on each connection", 1);
    args.check();
    if (wire != "plain" && wire != "zpat") {
        std::cerr << "many_connections: --wire is plain or zpat, not '" << wire << "'" << std::endl;
        return 2;
    }

    std::atomic<long> sent_bytes{0};
    std::atomic<long> echoed_bytes{0};
    std::vector<std::thread> clients;
    for (long c = 0; c < connections; ++c) {
        clients.emplace_back([&, c] {
            try {
                echoed_bytes += wire == "plain"
                                    ? plain_connection(endpoint, c, messages, sent_bytes)
                                    : framed_connection(endpoint, c, messages, sent_bytes);
            } catch (const zpat::error& e) {
                std::cerr << "many_connections: " << e.what() << std::endl;
            }
        });  // the connection closes as the thread ends
    }
    for (auto& t : clients) {
        t.join();
    }
    std::cout << "many_connections: " << connections << " connections sent " << sent_bytes
              << " bytes and got " << echoed_bytes << " back" << std::endl;
    return sent_bytes == echoed_bytes && sent_bytes > 0 ? 0 : 1;
}
