// Conversion worker: serves "celsius.to.fahrenheit" behind a Majordomo broker.
//
//   role:     Majordomo worker (one DEALER socket, through zpat::service_worker)
//   connects: --broker (default tcp://127.0.0.1:5555)
//   request:  one frame, a temperature in Celsius as text ("21.5")
//   reply:    one frame, the temperature in Fahrenheit ("70.7"), or "error: ..." for bad input
//
// Start two of these with different --name values, then the client; kill one mid-run and watch
// the broker send the client's retry to the other.
//
// --plain ENDPOINT serves the tutorial's own clients directly instead, with no broker: plain
// text on raw+tcp:// (zpat::stream: a request ends at a newline, or where one read ended, as
// the tutorial's client sends it with one send and no newline; each answer ends with a newline)
// or raw+udp:// (zpat::datagram: one request per datagram, one answer back).

#include <charconv>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>

#include "common/args.hpp"
#include "zpat/zpat.hpp"

namespace {

std::string convert(const std::string& celsius) {
    double value = 0;
    const char* end = celsius.data() + celsius.size();
    auto [rest, ec] = std::from_chars(celsius.data(), end, value);
    if (ec != std::errc{} || rest != end) {
        return "error: '" + celsius + "' is not a number";
    }
    char text[32];
    std::snprintf(text, sizeof text, "%.1f", value * 9.0 / 5.0 + 32.0);
    return text;
}

std::string trimmed(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
        text.pop_back();
    }
    return text;
}

std::string answer_to(const std::string& name, const std::string& request) {
    const std::string celsius = trimmed(request);
    const std::string answer = convert(celsius);
    std::cout << name << ": " << celsius << " C -> " << answer << " F" << std::endl;
    return answer + "\n";
}

void serve_plain(const std::string& endpoint, const std::string& name) {
    if (zpat::backend_name(endpoint) == "raw+udp") {
        zpat::datagram server(endpoint);
        std::cout << name << ": listening on " << server.endpoints().front() << std::endl;
        while (auto got = server.receive()) {
            server.send(got->from, answer_to(name, got->bytes));
        }
        return;
    }
    zpat::stream server(endpoint);
    std::cout << name << ": listening on " << server.endpoints().front() << std::endl;
    std::map<zpat::stream::connection_id, std::string> pending;  // bytes of unended requests
    while (auto ev = server.receive()) {
        if (ev->what != zpat::stream::event::type::data) {
            pending.erase(ev->connection);
            continue;
        }
        std::string& bytes = pending[ev->connection];
        bytes += ev->bytes;
        for (auto end = bytes.find('\n'); end != std::string::npos; end = bytes.find('\n')) {
            server.send(ev->connection, answer_to(name, bytes.substr(0, end)));
            bytes.erase(0, end + 1);
        }
        if (!bytes.empty()) {  // the read ended mid-line: the tutorial's request has no newline
            server.send(ev->connection, answer_to(name, bytes));
            bytes.clear();
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    example::args args(
        argc, argv,
        "convert_worker: serves Celsius to Fahrenheit, behind a broker or to plain clients");
    using namespace std::chrono_literals;
    const std::string name = args.text("--name", "worker", "The name this worker prints");
    const std::string plain = args.text("--plain", "",
                                        "Serve plain clients here (raw+tcp:// or raw+udp://) "
                                        "instead of through the broker");
    const std::string broker =
        args.text("--broker", ">tcp://127.0.0.1:5555", "The Majordomo broker");
    args.check();
    if (!plain.empty()) {
        try {
            serve_plain(example::bind_to(plain), name);
            return 0;
        } catch (const zpat::error& e) {
            std::cerr << name << ": " << e.what() << std::endl;
            return 1;
        }
    }

    // Heartbeats every 250 ms: the broker notices a dead worker within a second.
    zpat::service_worker worker(example::connect_to(broker), "celsius.to.fahrenheit",
                                {.heartbeat_interval = 250ms, .heartbeat_liveness = 3});
    std::cout << name << ": ready" << std::endl;
    worker.serve([&](zpat::message request) {
        const std::string answer = convert(request.at(0));
        std::cout << name << ": " << request.at(0) << " C -> " << answer << " F" << std::endl;
        return zpat::message{answer};
    });
}
