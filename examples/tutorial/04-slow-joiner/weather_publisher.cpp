// Weather publisher: numbered updates for a handful of zip codes, as fast as it can.
//
//   role:   publisher (an XPUB socket behind zpat::publisher)
//   binds:  --endpoint (default tcp://*:5556)
//   sends:  --count updates per zip code, each [zip] ["<seq> <temperature>"], seq from 0
//
// With --wait N it first waits for N subscriptions, which is the cure for the slow joiner:
// a subscriber that connects a few milliseconds after the first publish misses what was sent
// before its subscription reached the publisher, and nothing tells either side.
//
// With --stay S it keeps its connections open S seconds after the last update: when a publisher
// closes, libzmq discards what a lagging subscriber has not read yet, linger or not, so a
// publisher that must deliver its last updates stays until its subscribers have them.

#include <iostream>
#include <random>
#include <thread>

#include "common/args.hpp"
#include "zpat/zpat.hpp"

int main(int argc, char** argv) {
    example::args args(argc, argv,
                       "weather_publisher: numbered weather updates, as fast as it can");
    using namespace std::chrono_literals;
    const std::string endpoint =
        args.text("--endpoint", "@tcp://*:5556", "Where subscribers connect");
    const long count = args.number("--count", 1000, "Updates per zip code", 1);
    const long wait_for =
        args.number("--wait", 0, "Subscribers to wait for before publishing (0: none)", 0);
    const long stay =
        args.number("--stay", 0, "Seconds to stay connected after the last update", 0);
    args.check();

    // block_when_full: wait for a slow subscriber instead of dropping, so that every loss seen
    // here is the slow joiner's (or the close's, without --stay).
    zpat::publisher pub(example::bind_to(endpoint),
                        {.linger = zpat::forever, .block_when_full = true});
    if (wait_for > 0) {
        std::cout << "publisher: waiting for " << wait_for << " subscription(s)" << std::endl;
        if (!pub.wait_for_subscriptions(static_cast<std::size_t>(wait_for), 10s)) {
            std::cerr << "publisher: nobody subscribed within 10 s" << std::endl;
            return 1;
        }
    }
    std::cout << "publisher: publishing " << count << " updates per zip code" << std::endl;
    std::mt19937 random(42);
    std::uniform_int_distribution<int> temperature(-10, 35);
    for (long seq = 0; seq < count; ++seq) {
        for (const char* zip : {"10001", "10002", "94105", "60601"}) {
            pub.publish(zip, std::to_string(seq) + " " + std::to_string(temperature(random)));
        }
    }
    std::cout << "publisher: done" << std::endl;
    std::this_thread::sleep_for(std::chrono::seconds(stay));
}
