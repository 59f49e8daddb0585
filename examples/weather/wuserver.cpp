// Weather update server: a publisher bound to tcp://*:5556 (or --endpoint). It publishes random
// readings for the zip codes 10000 to 10099, the topic being the zip code, as in the Guide's
// wuserver. Publishes --count updates (default: forever), at most --rate per second.

#include <chrono>
#include <iostream>
#include <random>
#include <thread>

#include "common/args.hpp"
#include "weather.hpp"
#include "zpat/zpat.hpp"

int main(int argc, char** argv) {
    const std::string endpoint = example::flag(argc, argv, "--endpoint", "@tcp://*:5556");
    const long count = example::flag(argc, argv, "--count", 0L);
    const long rate = example::flag(argc, argv, "--rate", 100000L);

    zpat::publisher station(example::bind_to(endpoint));
    std::cout << "wuserver: publishing on " << station.endpoints().front() << std::endl;

    std::mt19937 random(std::random_device{}());
    std::uniform_int_distribution<int> zipcode(10000, 10099);
    std::uniform_int_distribution<int> temperature(-20, 40);
    std::uniform_int_distribution<int> humidity(10, 60);
    const auto pause = std::chrono::nanoseconds(1'000'000'000 / std::max(1L, rate));

    for (long sent = 0; count == 0 || sent < count; ++sent) {
        // Topic first: subscribers match it by prefix, so "10001" hears only 10001.
        zpat::message update{std::to_string(zipcode(random))};
        update.push_back(zpat::pack(weather_reading{temperature(random), humidity(random)}));
        // Nobody listening? The update is simply dropped: a publisher never waits.
        station.send(update);
        std::this_thread::sleep_for(pause);
    }
}
