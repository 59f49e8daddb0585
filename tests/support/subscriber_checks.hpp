#pragma once
// Checks tests share: a subscriber that kept to the limits loses nothing while an offender is
// cut off beside it; an xsubscriber takes a stream whole however its reads split it.

#include <catch2/catch.hpp>
#include <cstddef>
#include <functional>
#include <string>
#include <thread>

#include "support/test_support.hpp"
#include "zpat/zpat.hpp"

namespace zpat::testing {

// `honest`, subscribed to "news", gets 20 numbered messages in order. Its subscription may land
// after the first sends, so probes are published until one arrives (`before_probe` runs before
// each, for a publisher that must be told to read its subscriptions); probes still on their way
// are skipped.
inline void honest_subscriber_gets_all(
    subscriber& honest, const std::function<bool(const message&)>& publish,
    const std::function<void()>& before_probe = [] {}) {
    REQUIRE(eventually([&] {
        before_probe();
        publish(message{"news", "probe"});
        return honest.receive(10ms).has_value();
    }));
    for (int i = 0; i < 20; ++i) {
        REQUIRE(publish(message{"news", std::to_string(i)}));
    }
    for (int i = 0; i < 20; ++i) {
        auto got = honest.receive(5s);
        REQUIRE(got);
        if (got->at(1) == "probe") {
            --i;
            continue;
        }
        CHECK(*got == message{"news", std::to_string(i)});
    }
}

// The `i`th message of a stream: its number, then `size` bytes that differ from its neighbours'.
inline message numbered(std::size_t i, std::size_t size) {
    return message{"s", std::to_string(i), std::string(size, static_cast<char>('a' + i % 26))};
}

// `xsub`, subscribed to "s" on `pub`, gets every message whole and in order, whether its reads
// end mid-message (bursts of small ones), bring part of one (megabytes), or bring a single small
// one (a trickle, each sent once the last arrived). `pub` must wait when full, for a bounded
// send_timeout: a burst's publishing thread then ends even when `xsub` stops taking.
inline void xsubscriber_takes_every_split(publisher& pub, xsubscriber& xsub) {
    std::size_t next = 0;
    const auto burst = [&] {
        std::vector<std::size_t> sizes;
        for (std::size_t i = 0; i < 3000; ++i) {
            sizes.push_back(i == 1500 ? std::size_t{1} << 20 : i % 500 == 7 ? 200000 : 1000);
        }
        std::thread publishing([&pub, &sizes, first = next] {
            for (std::size_t i = 0; i < sizes.size() && pub.send(numbered(first + i, sizes[i]));
                 ++i) {
            }
        });
        // Everything is taken (or the wait ends) before checking, so the thread is joined.
        std::size_t whole = 0;
        message got;
        while (whole < sizes.size() && xsub.receive(got, 10s) &&
               got == numbered(next + whole, sizes[whole])) {
            ++whole;
        }
        publishing.join();
        REQUIRE(whole == sizes.size());
        next += whole;
    };
    burst();
    message got;
    for (int i = 0; i < 20; ++i) {
        REQUIRE(pub.send(numbered(next, 10)));
        REQUIRE(xsub.receive(got, 5s));
        REQUIRE(got == numbered(next++, 10));
    }
    burst();
}

}  // namespace zpat::testing
