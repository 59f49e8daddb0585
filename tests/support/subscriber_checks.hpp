#pragma once
// A check the limit tests share: a subscriber that kept to the limits loses nothing while an
// offender is cut off beside it.

#include <catch2/catch.hpp>
#include <functional>
#include <string>

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

}  // namespace zpat::testing
