// Weather update server, a drop-in peer of the ZeroMQ Guide's wuserver: a publisher bound to
// tcp://*:5556 (or --endpoint) that sends one-frame text updates "ZIPCODE TEMPERATURE HUMIDITY"
// ("%05d %d %d"), so the Guide's wuclient (filter "10001 ") works against it unchanged, and this
// repository's wuclient works against the Guide's server. Zip codes are drawn from 10000 to 10099
// (the Guide draws from 0 to 99999, which makes a demo wait long for one zip code). Publishes
// --count updates (default: forever), at most --rate per second.

#include <array>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <random>
#include <thread>

#include "common/args.hpp"
#include "zpat/zpat.hpp"

int main(int argc, char** argv) {
    example::args args(argc, argv, "wuserver: the Guide's weather update server (a publisher)");
    const std::string endpoint =
        args.text("--endpoint", "@tcp://*:5556", "Where subscribers connect");
    const long count = args.number("--count", 0, "Updates to publish, then exit (0: never)", 0);
    const long rate = args.number("--rate", 100000, "Updates per second at most", 1);
    args.check();

    zpat::publisher station(example::bind_to(endpoint));
    std::cout << "wuserver: publishing on " << station.endpoints().front() << std::endl;

    std::mt19937 random(std::random_device{}());
    std::uniform_int_distribution<int> zipcode(10000, 10099);
    std::uniform_int_distribution<int> temperature(-80, 134);  // the Guide's: randof(215) - 80
    std::uniform_int_distribution<int> humidity(10, 59);       // randof(50) + 10
    const auto pause = std::chrono::nanoseconds(1'000'000'000 / std::max(1L, rate));

    std::array<char, 32> text{};
    for (long sent = 0; count == 0 || sent < count; ++sent) {
        // One frame; its start is the topic: subscribers match "10001 " by prefix.
        const int length = std::snprintf(text.data(), text.size(), "%05d %d %d", zipcode(random),
                                         temperature(random), humidity(random));
        // Nobody listening? The update is simply dropped: a publisher never waits.
        station.send(
            zpat::message{std::string_view(text.data(), static_cast<std::size_t>(length))});
        std::this_thread::sleep_for(pause);
    }
}
