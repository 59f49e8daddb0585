// Weather update client, a drop-in peer of the ZeroMQ Guide's wuclient: a subscriber connected to
// tcp://localhost:5556 (or --endpoint) that subscribes to "ZIPCODE " (--zip, default 10001; the
// space keeps 10001 from matching 100010 in the Guide's wider range), collects --count updates
// (default 100, as the Guide's) and prints their average temperature. Each update is one text
// frame "ZIPCODE TEMPERATURE HUMIDITY", as the Guide's wuserver sends.

#include <iostream>
#include <sstream>

#include "common/args.hpp"
#include "zpat/zpat.hpp"

int main(int argc, char** argv) {
    example::args args(argc, argv, "wuclient: the Guide's weather update client (a subscriber)");
    using namespace std::chrono_literals;
    const std::string endpoint =
        args.text("--endpoint", ">tcp://localhost:5556", "The weather server to connect to");
    const std::string zip = args.text("--zip", "10001", "The zip code to subscribe to");
    const long count = args.number("--count", 100, "Updates to average", 1);
    args.check();

    // Subscribe to the zip code: the publisher sends us only updates that start with it.
    zpat::subscriber updates(example::connect_to(endpoint), {zip + " "});
    std::cout << "wuclient: collecting " << count << " updates for zip code " << zip << std::endl;

    long total_temperature = 0;
    for (long n = 0; n < count; ++n) {
        auto update = updates.receive(10s);
        if (!update) {
            std::cerr << "wuclient: no update for 10 s; is wuserver running?" << std::endl;
            return 1;
        }
        std::istringstream fields(update->at(0));
        long zipcode = 0;
        long temperature = 0;
        long humidity = 0;
        if (!(fields >> zipcode >> temperature >> humidity)) {
            std::cerr << "wuclient: not a weather update: '" << update->at(0) << "'" << std::endl;
            return 1;
        }
        total_temperature += temperature;
    }
    std::cout << "wuclient: average temperature for zip code " << zip << " was "
              << total_temperature / count << "F" << std::endl;
}
