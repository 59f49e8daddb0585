// Echo server: answers every message with itself, over UDP or TCP, in either of two wires.
//
//   binds:  --endpoint (default raw+udp://127.0.0.1:6789, the tutorial's port; raw+tcp://...
//           for TCP)
//   --wire plain (the default): plain bytes, what the tutorials' own programs send, so their
//           clients work against it unchanged. UDP: each datagram goes back to its sender as it
//           came (zpat::datagram). TCP: whatever a connection brings goes back on it, until the
//           client closes (zpat::stream).
//   --wire zpat: zpat's raw wire format (docs/wire-format.md) through a zpat::replier: whole
//           messages of any size over TCP; request ids, so a retried request is answered once,
//           over UDP.
//   --count N: stop after answering N messages (0, the default: never). A plain TCP "message"
//           is what one read brought.
//
// One thread serves every client: on TCP the raw backend's event loop (Asio) multiplexes all
// the connections; on UDP there are no connections at all, only datagrams and their senders.

#include <iostream>

#include "common/args.hpp"
#include "zpat/zpat.hpp"

namespace {

std::string shown(const std::string& text) {
    return "'" + (text.size() > 40 ? text.substr(0, 40) + "..." : text) + "' (" +
           std::to_string(text.size()) + " bytes)";
}

void serve_datagrams(const std::string& endpoint, long count) {
    zpat::datagram server(endpoint);
    std::cout << "echo_server: listening on " << server.endpoints().front() << " (plain datagrams)"
              << std::endl;
    for (long n = 0; count == 0 || n < count; ++n) {
        auto got = server.receive();
        std::cout << "echo_server: got " << shown(got->bytes) << " from " << got->from.text
                  << std::endl;
        server.send(got->from, got->bytes);
    }
}

void serve_stream(const std::string& endpoint, long count) {
    using type = zpat::stream::event::type;
    zpat::stream server(endpoint);
    std::cout << "echo_server: listening on " << server.endpoints().front() << " (plain bytes)"
              << std::endl;
    for (long n = 0; count == 0 || n < count;) {
        auto ev = server.receive();
        const std::string which = "connection " + std::to_string(ev->connection);
        if (ev->what == type::opened) {
            std::cout << "echo_server: " << which << " opened" << std::endl;
        } else if (ev->what == type::closed) {
            std::cout << "echo_server: " << which << " closed by the client" << std::endl;
        } else {
            std::cout << "echo_server: got " << shown(ev->bytes) << " on " << which << std::endl;
            server.send(ev->connection, ev->bytes);
            ++n;
        }
    }
}

void serve_framed(const std::string& endpoint, long count) {
    zpat::replier server(endpoint);
    std::cout << "echo_server: listening on " << server.endpoints().front() << " (zpat's wire)"
              << std::endl;
    for (long n = 0; count == 0 || n < count; ++n) {
        auto request = server.receive();
        std::cout << "echo_server: got " << shown(request->front()) << std::endl;
        server.reply(*request);
    }
}

}  // namespace

int main(int argc, char** argv) {
    example::args args(argc, argv,
                       "echo_server: answers every message with itself, over UDP or TCP");
    const std::string endpoint =
        example::bind_to(args.text("--endpoint", "raw+udp://127.0.0.1:6789",
                                   "Where to listen: raw+udp://HOST:PORT or raw+tcp://HOST:PORT"));
    const std::string wire =
        args.text("--wire", "plain",
                  "plain (bare bytes, as the tutorials' programs) or zpat (zpat's framing)");
    const long count = args.number("--count", 0, "Messages to answer, then exit (0: never)", 0);
    args.check();
    try {
        if (wire == "zpat") {
            serve_framed(endpoint, count);
        } else if (wire != "plain") {
            std::cerr << "echo_server: --wire is plain or zpat, not '" << wire << "'" << std::endl;
            return 2;
        } else if (zpat::backend_name(endpoint) == "raw+udp") {
            serve_datagrams(endpoint, count);
        } else {
            serve_stream(endpoint, count);
        }
    } catch (const zpat::error& e) {
        std::cerr << "echo_server: " << e.what() << std::endl;
        return 1;
    }
}
