// Echo client: sends "hi, server!" and prints what comes back, then tries a 100,000-byte
// message, over UDP or TCP, in either of two wires.
//
//   connects: --endpoint (default raw+udp://127.0.0.1:6789; raw+tcp://... for TCP)
//   --wire plain (the default): plain bytes, as the tutorials' own programs send them, so it
//           works against their servers unchanged. UDP: one datagram, sent again after 500 ms
//           of silence (zpat::datagram). TCP: bytes on one connection, read until as many came
//           back as went out or the server closed (zpat::stream).
//   --wire zpat: zpat's raw wire format through a zpat::requester: on UDP the retry carries
//           the same request id, and the server answers a repeat from memory.
//
// The lesson is in the second message: a datagram has a size limit and a stream has no message
// boundaries.

#include <iostream>
#include <string>

#include "common/args.hpp"
#include "zpat/zpat.hpp"

namespace {

using namespace std::chrono_literals;
const std::string greeting = "hi, server!";
const std::string large(100000, 'x');

std::string attempts(int n) {
    return "(" + std::to_string(n) + " attempt" + (n > 1 ? "s" : "") + ")";
}

int plain_datagrams(const std::string& endpoint) {
    zpat::datagram client(endpoint);
    for (int attempt = 1; attempt <= 4; ++attempt) {
        client.send(greeting);  // false when an earlier one found nobody: try again anyway
        if (auto answer = client.receive(500ms)) {
            std::cout << "echo_client: the server said '" << answer->bytes << "' "
                      << attempts(attempt) << std::endl;
            try {
                client.send(large);
            } catch (const zpat::message_size_error& e) {
                std::cout << "echo_client: refused: " << e.what() << std::endl;
            }
            return 0;
        }
    }
    std::cerr << "echo_client: no answer after 4 attempts" << std::endl;
    return 1;
}

int plain_stream(const std::string& endpoint) {
    using type = zpat::stream::event::type;
    zpat::stream client(endpoint);
    auto opened = client.receive(5s);
    if (!opened) {
        std::cerr << "echo_client: could not connect to " << endpoint << " within 5 s" << std::endl;
        return 1;
    }
    // Reads until `size` bytes came back, the server closed, or 5 s passed in silence.
    int pieces = 0;
    bool closed = false;
    auto read_back = [&](std::size_t size) {
        std::string into;
        while (into.size() < size && !closed) {
            auto ev = client.receive(5s);
            if (!ev) {
                break;
            }
            closed = ev->what == type::closed;
            into += ev->bytes;
            pieces += ev->bytes.empty() ? 0 : 1;
        }
        return into;
    };
    client.send(opened->connection, greeting);
    const std::string answer = read_back(greeting.size());
    if (answer.empty()) {
        std::cerr << "echo_client: " << (closed ? "the server closed the connection" : "nothing")
                  << " instead of an answer" << std::endl;
        return 1;
    }
    std::cout << "echo_client: the server said '" << answer << "'" << std::endl;
    // The tutorial's server closes after one answer; this client notices when it sends again.
    pieces = 0;
    client.send(opened->connection, large);
    const std::string echoed = read_back(large.size());
    if (closed && echoed.empty()) {
        std::cout << "echo_client: the server closed the connection after its answer" << std::endl;
        return 0;
    }
    if (echoed != large) {
        std::cerr << "echo_client: the 100000-byte message did not come back whole" << std::endl;
        return 1;
    }
    std::cout << "echo_client: a 100000-byte message came back whole, in " << pieces << " piece"
              << (pieces > 1 ? "s" : "") << " (a stream keeps no message boundaries)" << std::endl;
    return 0;
}

int framed(const std::string& endpoint) {
    zpat::requester client(endpoint, {.request_timeout = 500ms, .retries = 3});
    auto reply = client.request({greeting});
    if (!reply) {
        std::cerr << "echo_client: no answer after " << client.last_attempts() << " attempts"
                  << std::endl;
        return 1;
    }
    std::cout << "echo_client: the server said '" << reply->front() << "' "
              << attempts(client.last_attempts()) << std::endl;
    // A message is delivered whole or not at all, on both transports. On UDP it must also fit
    // in one datagram; zpat refuses a larger one before sending, by name.
    try {
        auto echoed = client.request({large});
        if (!echoed || echoed->front() != large) {
            std::cerr << "echo_client: the 100000-byte message "
                      << (echoed ? "came back changed" : "got no answer") << std::endl;
            return 1;
        }
        std::cout << "echo_client: a 100000-byte message came back whole (zpat's framing keeps "
                     "each message in one piece)"
                  << std::endl;
    } catch (const zpat::message_size_error& e) {
        std::cout << "echo_client: refused: " << e.what() << std::endl;
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    example::args args(
        argc, argv,
        "echo_client: sends \"hi, server!\" and a 100,000-byte message, and shows what comes back");
    const std::string endpoint =
        example::connect_to(args.text("--endpoint", "raw+udp://127.0.0.1:6789",
                                      "The server: raw+udp://HOST:PORT or raw+tcp://HOST:PORT"));
    const std::string wire =
        args.text("--wire", "plain",
                  "plain (bare bytes, as the tutorials' programs) or zpat (zpat's framing)");
    args.check();
    try {
        if (wire == "zpat") {
            return framed(endpoint);
        }
        if (wire != "plain") {
            std::cerr << "echo_client: --wire is plain or zpat, not '" << wire << "'" << std::endl;
            return 2;
        }
        return zpat::backend_name(endpoint) == "raw+udp" ? plain_datagrams(endpoint)
                                                         : plain_stream(endpoint);
    } catch (const zpat::error& e) {
        std::cerr << "echo_client: " << e.what() << std::endl;
        return 1;
    }
}
