// raw+tcp and raw+udp carry plain, unauthenticated traffic: they bind beyond loopback only when
// told to, knowingly.

#include <catch2/catch.hpp>

#include "zpat/zpat.hpp"

TEST_CASE("a raw endpoint binds beyond loopback only with allow_insecure, and says so") {
    for (const std::string scheme : {"raw+tcp", "raw+udp"}) {
        CAPTURE(scheme);
        const std::string everywhere = "@" + scheme + "://0.0.0.0:0";
        CHECK_THROWS_WITH(zpat::publisher(everywhere),
                          Catch::Contains("would take plain, unauthenticated " + scheme) &&
                              Catch::Contains("allow_insecure"));
        CHECK_THROWS_AS(zpat::publisher(everywhere), zpat::option_error);
        CHECK_NOTHROW(zpat::publisher(everywhere, {.allow_insecure = true}));
        CHECK_NOTHROW(zpat::publisher("@" + scheme + "://127.0.0.1:0"));
        CHECK_NOTHROW(zpat::publisher("@" + scheme + "://localhost:0"));
        CHECK_THROWS_WITH(zpat::check_offered(zpat::role_kind::publisher, everywhere),
                          Catch::Contains("allow_insecure"));
    }
    CHECK_NOTHROW(zpat::check_offered(zpat::role_kind::puller, "@raw+tcp://[::1]:0"));
    // ZeroMQ endpoints have CURVE for that, and a connect goes where it is sent.
    CHECK_NOTHROW(zpat::puller("@tcp://0.0.0.0:0"));
    CHECK_NOTHROW(zpat::pusher(">raw+tcp://192.0.2.1:9", {.linger = std::chrono::milliseconds{0}}));
}
