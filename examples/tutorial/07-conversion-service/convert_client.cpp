// Conversion client: asks the "celsius.to.fahrenheit" service for each temperature in turn.
//
//   role:     Majordomo client (a REQ socket, through zpat::service_client)
//   connects: --broker (default tcp://127.0.0.1:5555)
//   sends:    --count temperatures (0, 5, 10, ... C), one every --every-ms milliseconds
//
// Each request waits up to a second for its answer and is retried up to three times on a fresh
// connection (the Lazy Pirate pattern): a worker that dies holding a request costs the client a
// second, not the answer. It exits 1 if any temperature went unanswered.
//
// --plain ENDPOINT asks a plain conversion server instead, the tutorial's own or
// convert_worker --plain: on raw+tcp:// one connection per temperature, which sends it as text
// and reads the answer up to a newline or the server's close; on raw+udp:// one datagram,
// sent again after a second of silence, up to three times.

#include <iostream>
#include <optional>
#include <string>
#include <thread>

#include "common/args.hpp"
#include "zpat/zpat.hpp"

namespace {

using namespace std::chrono_literals;

// One temperature from a plain server: the answer's text, or nothing.
std::optional<std::string> ask_plain(const std::string& endpoint, const std::string& celsius) {
    std::string answer;
    if (zpat::backend_name(endpoint) == "raw+udp") {
        zpat::datagram client(endpoint);
        for (int attempt = 0; attempt < 3 && answer.empty(); ++attempt) {
            client.send(celsius);
            if (auto got = client.receive(1s)) {
                answer = got->bytes;
            }
        }
    } else {
        zpat::stream client(endpoint);
        auto opened = client.receive(5s);
        if (!opened) {
            return std::nullopt;
        }
        client.send(opened->connection, celsius);
        while (answer.find('\n') == std::string::npos) {
            auto ev = client.receive(5s);
            if (!ev || ev->what == zpat::stream::event::type::closed) {
                break;
            }
            answer += ev->bytes;
        }
    }
    answer = answer.substr(0, answer.find('\n'));
    return answer.empty() ? std::nullopt : std::optional(answer);
}

}  // namespace

int main(int argc, char** argv) {
    example::args args(
        argc, argv,
        "convert_client: asks for Celsius to Fahrenheit, through a broker or a plain server");
    const std::string broker =
        args.text("--broker", ">tcp://127.0.0.1:5555", "The Majordomo broker");
    const std::string plain = args.text(
        "--plain", "", "A plain conversion server to ask instead (raw+tcp:// or raw+udp://)");
    const long count = args.number("--count", 10, "Temperatures to convert", 1);
    const long every_ms = args.number("--every-ms", 200, "Milliseconds between requests", 0);
    args.check();

    std::optional<zpat::service_client> client;
    if (plain.empty()) {
        client.emplace(example::connect_to(broker),
                       zpat::options{.request_timeout = 1s, .retries = 3});
    }
    long answered = 0;
    for (long i = 0; i < count; ++i) {
        const std::string celsius = std::to_string(i * 5);
        const auto start = std::chrono::steady_clock::now();
        std::optional<std::string> reply;
        if (client) {
            if (auto frames = client->request("celsius.to.fahrenheit", {celsius})) {
                reply = frames->at(0);
            }
        } else {
            try {
                reply = ask_plain(example::connect_to(plain), celsius);
            } catch (const zpat::error& e) {
                std::cerr << "client: " << e.what() << std::endl;
                return 1;
            }
        }
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - start)
                            .count();
        if (!reply) {
            std::cout << "client: " << celsius << " C -> no answer" << std::endl;
            continue;
        }
        ++answered;
        std::cout << "client: " << celsius << " C = " << *reply << " F (" << ms << " ms";
        if (client) {
            std::cout << ", " << client->last_attempts() << " attempt"
                      << (client->last_attempts() > 1 ? "s" : "");
        }
        std::cout << ")" << std::endl;
        std::this_thread::sleep_for(std::chrono::milliseconds(every_ms));
    }
    std::cout << "client: " << answered << " of " << count << " answered" << std::endl;
    return answered == count ? 0 : 1;
}
