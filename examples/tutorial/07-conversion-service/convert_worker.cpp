// Conversion worker: serves "celsius.to.fahrenheit" behind a Majordomo broker.
//
//   role:     Majordomo worker (one DEALER socket, through zpat::service_worker)
//   connects: --broker (default tcp://127.0.0.1:5555)
//   request:  one frame, a temperature in Celsius as text ("21.5")
//   reply:    one frame, the temperature in Fahrenheit ("70.7"), or "error: ..." for bad input
//
// Start two of these with different --name values, then the client; kill one mid-run and watch
// the broker send the client's retry to the other.

#include <charconv>
#include <cstdio>
#include <iostream>
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

}  // namespace

int main(int argc, char** argv) {
    using namespace std::chrono_literals;
    const std::string broker = example::flag(argc, argv, "--broker", ">tcp://127.0.0.1:5555");
    const std::string name = example::flag(argc, argv, "--name", "worker");

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
