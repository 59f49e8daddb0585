#include <catch2/catch.hpp>

#include "zpat/core/endpoint.hpp"
#include "zpat/core/error.hpp"
#include "zpat/datagram.hpp"
#include "zpat/pipeline.hpp"

using Catch::Matchers::Contains;
using zpat::link;

TEST_CASE("'@' binds, '>' connects, and no prefix takes the role's default") {
    const auto list =
        zpat::parse_endpoints("@tcp://127.0.0.1:5555,>ipc:///tmp/x,inproc://y", link::connect);
    REQUIRE(list.size() == 3);
    CHECK(list[0] == zpat::endpoint{link::bind, "tcp", "127.0.0.1:5555"});
    CHECK(list[1] == zpat::endpoint{link::connect, "ipc", "/tmp/x"});
    CHECK(list[2].side == link::connect);
    CHECK(zpat::parse_endpoints("tcp://h:1", link::bind)[0].side == link::bind);
}

TEST_CASE("malformed endpoints are refused with the text that was wrong") {
    CHECK_THROWS_WITH(zpat::parse_endpoints("", link::bind), Contains("empty endpoint"));
    CHECK_THROWS_WITH(zpat::parse_endpoints("tcp//x", link::bind),
                      Contains("'tcp//x' has no scheme"));
    CHECK_THROWS_WITH(zpat::parse_endpoints("tcp://", link::bind), Contains("no address"));
    CHECK_THROWS_WITH(zpat::parse_endpoints("TCP://x:1", link::bind), Contains("malformed scheme"));
    CHECK_THROWS_WITH(zpat::parse_endpoints("tcp://a:1,,tcp://b:2", link::bind),
                      Contains("empty endpoint"));
}

TEST_CASE("roles refuse endpoints their backend cannot use") {
    CHECK_THROWS_WITH(zpat::puller("carrier-pigeon://loft"),
                      Contains("unknown scheme 'carrier-pigeon'"));
    CHECK_THROWS_WITH(zpat::puller("tcp://127.0.0.1"), Contains("needs host:port"));
    CHECK_THROWS_WITH(zpat::puller("tcp://127.0.0.1:70000"), Contains("needs host:port"));
    CHECK_THROWS_WITH(zpat::pusher("tcp://*:5555"), Contains("cannot connect to host '*'"));
    CHECK_THROWS_WITH(zpat::pusher("tcp://127.0.0.1:*"), Contains("cannot connect to port *"));
    CHECK_THROWS_WITH(zpat::puller("tcp://no.such.interface.invalid:1"), Contains("cannot bind"));
}

TEST_CASE("binding ':*' reports the port the system picked, and a taken port is refused") {
    const std::string transport = GENERATE(as<std::string>{}, "tcp", "raw+tcp");
    CAPTURE(transport);
    zpat::puller first("@" + transport + "://127.0.0.1:*");
    const std::string real = first.endpoints().at(0);
    CHECK(real.rfind(transport + "://127.0.0.1:", 0) == 0);
    CHECK(real.find('*') == std::string::npos);
    // The newcomer's mistake, binding where a broker listens, gets the way to connect instead.
    CHECK_THROWS_WITH(zpat::puller("@" + real), Contains("cannot bind '" + real + "'") &&
                                                    Contains("in use") &&
                                                    Contains("write '>" + real + "'"));
    CHECK_THROWS_AS(zpat::puller("@" + real), zpat::connection_error);
}

TEST_CASE("a taken UDP port is refused with the same hint") {
    zpat::datagram first("raw+udp://127.0.0.1:*");
    const std::string real = first.endpoints().at(0);
    CHECK_THROWS_WITH(zpat::datagram(real), Contains("in use") && Contains("write '>" + real));
}

TEST_CASE("options out of range are refused by field name, on every backend") {
    using namespace std::chrono_literals;
    const std::string endpoint = GENERATE(as<std::string>{}, "tcp://127.0.0.1:*",
                                          "raw+tcp://127.0.0.1:*", "inproc://options-check");
    CAPTURE(endpoint);
    CHECK_THROWS_AS(zpat::puller("@" + endpoint, {.receive_high_water_mark = -1}),
                    zpat::option_error);
    CHECK_THROWS_WITH(zpat::puller("@" + endpoint, {.receive_high_water_mark = -1}),
                      Contains("receive_high_water_mark is -1"));
    CHECK_THROWS_WITH(zpat::puller("@" + endpoint, {.max_message_size = 0}),
                      Contains("max_message_size"));
    CHECK_THROWS_WITH(zpat::pusher(">" + endpoint, {.send_timeout = -5ms}),
                      Contains("send_timeout is -5 ms"));
    CHECK_THROWS_WITH(zpat::puller("@" + endpoint, {.max_message_frames = 0}),
                      Contains("max_message_frames is 0"));
    CHECK_NOTHROW(zpat::puller("@" + endpoint, {.send_timeout = zpat::forever}));
}

TEST_CASE("raw+tcp refuses max_message_frames beyond what its wire format carries") {
    CHECK_THROWS_WITH(zpat::puller("@raw+tcp://127.0.0.1:*", {.max_message_frames = 1025}),
                      Contains("max_message_frames is 1025; raw+tcp carries at most 1024"));
    CHECK_NOTHROW(zpat::puller("@raw+tcp://127.0.0.1:*", {.max_message_frames = 1024}));
    CHECK_NOTHROW(zpat::puller("@tcp://127.0.0.1:*", {.max_message_frames = 100000}));
}
