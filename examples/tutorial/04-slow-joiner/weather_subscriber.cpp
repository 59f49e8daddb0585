// Weather subscriber: receives one zip code's updates and says which ones it missed.
//
//   role:     subscriber (a SUB socket behind zpat::subscriber)
//   connects: --endpoint (default tcp://localhost:5556)
//   topic:    --zip (default 10001): a prefix filter, so "100" would match 10001 and 10002
//
// It stops after --count updates or when none has come for a second, then reports the first
// sequence number it saw (anything before it was published before the subscription arrived)
// and how many were missing after that one.

#include <iostream>

#include "common/args.hpp"
#include "zpat/zpat.hpp"

int main(int argc, char** argv) {
    example::args args(argc, argv,
                       "weather_subscriber: one zip code's updates, and which ones it missed");
    using namespace std::chrono_literals;
    const std::string endpoint =
        args.text("--endpoint", ">tcp://localhost:5556", "The publisher to connect to");
    const std::string zip = args.text("--zip", "10001", "The zip code to subscribe to");
    const long count = args.number("--count", 1000, "Updates to receive", 1);
    args.check();

    zpat::subscriber sub(example::connect_to(endpoint), {zip});
    std::cout << "subscriber: listening for zip " << zip << std::endl;
    long received = 0;
    long first = -1;
    long last = -1;
    long missing = 0;  // gaps after the first update: lost mid-stream, not to the slow join
    long sum = 0;
    while (received < count) {
        auto update = sub.receive(received == 0 ? 3s : 1s);
        if (!update) {
            break;
        }
        const std::string& text = update->at(1);
        const long seq = std::stol(text.substr(0, text.find(' ')));
        sum += std::stol(text.substr(text.find(' ') + 1));
        if (first < 0) {
            first = seq;
        } else if (seq != last + 1) {
            missing += seq > last ? seq - last - 1 : 1;  // a gap, or one out of order
        }
        last = seq;
        ++received;
    }
    if (received == 0) {
        std::cout << "subscriber: nothing arrived: every update was published before my "
                     "subscription reached the publisher"
                  << std::endl;
        return 1;
    }
    std::cout << "subscriber: " << received << " updates for " << zip << ", average "
              << sum / received << " C; first was #" << first << ", so " << first
              << " were published before my subscription reached the publisher; ";
    if (missing == 0) {
        std::cout << "none missing after it" << std::endl;
    } else {
        std::cout << missing << " missing or out of order after it" << std::endl;
    }
    return 0;
}
