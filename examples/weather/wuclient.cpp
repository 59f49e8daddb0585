// Weather update client: a subscriber connected to tcp://localhost:5556 (or --endpoint). It
// subscribes to one zip code (--zip, default 10001), collects --count updates (default 20) and
// prints the average temperature, as in the Guide's wuclient.

#include <iostream>

#include "common/args.hpp"
#include "weather.hpp"
#include "zpat/zpat.hpp"

int main(int argc, char** argv) {
    using namespace std::chrono_literals;
    const std::string endpoint = example::flag(argc, argv, "--endpoint", ">tcp://localhost:5556");
    const std::string zip = example::flag(argc, argv, "--zip", "10001");
    const long count = example::flag(argc, argv, "--count", 20L);

    // Subscribe to the zip code: the publisher sends us only updates whose topic starts with it.
    zpat::subscriber updates(example::connect_to(endpoint), {zip});
    std::cout << "wuclient: collecting " << count << " updates for zip code " << zip << std::endl;

    long total_temperature = 0;
    for (long n = 0; n < count; ++n) {
        auto update = updates.receive(10s);
        if (!update) {
            std::cerr << "wuclient: no update for 10 s; is wuserver running?" << std::endl;
            return 1;
        }
        const auto reading = zpat::unpack<weather_reading>(update->at(1));
        total_temperature += reading.temperature;
    }
    std::cout << "wuclient: average temperature for zip code " << zip << " was "
              << static_cast<double>(total_temperature) / static_cast<double>(count) << " C"
              << std::endl;
}
