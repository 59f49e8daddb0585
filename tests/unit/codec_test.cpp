#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "zpat/core/codec.hpp"

struct weather_reading {
    int zipcode = 0;
    double temperature = 0;
    std::string station;
    MSGPACK_DEFINE_MAP(zipcode, temperature, station)
};

TEST_CASE("typed bodies round-trip through msgpack") {
    const weather_reading sent{10001, 21.5, "central park"};
    const auto got = zpat::unpack<weather_reading>(zpat::pack(sent));
    CHECK(got.zipcode == 10001);
    CHECK(got.temperature == 21.5);
    CHECK(got.station == "central park");

    using table = std::map<std::string, std::vector<int>>;
    const table nested{{"a", {1, 2}}, {"b", {}}};
    CHECK(zpat::unpack<table>(zpat::pack(nested)) == nested);
}

TEST_CASE("malformed msgpack gives a decode_error, never a crash") {
    using Catch::Matchers::Contains;
    SECTION("a reserved byte") {
        CHECK_THROWS_WITH(zpat::unpack<int>(std::string("\xc1", 1)), Contains("malformed"));
    }
    SECTION("a truncated string") {
        CHECK_THROWS_WITH(zpat::unpack<std::string>(std::string("\xa5hi", 3)),
                          Contains("truncated"));
    }
    SECTION("an empty body") {
        CHECK_THROWS_AS(zpat::unpack<int>(""), zpat::decode_error);
    }
    SECTION("trailing bytes after the object") {
        CHECK_THROWS_WITH(zpat::unpack<int>(zpat::pack(1) + "x"), Contains("trailing"));
    }
    SECTION("the wrong type") {
        CHECK_THROWS_WITH(zpat::unpack<int>(zpat::pack(std::string("seven"))),
                          Contains("holds a string"));
    }
}

TEST_CASE("hostile sizes are refused before anything is allocated for them") {
    using Catch::Matchers::Contains;
    // An array header claiming 4 billion elements, in a five-byte body.
    const std::string huge_array("\xdd\xff\xff\xff\xff", 5);
    CHECK_THROWS_WITH(zpat::unpack<std::vector<int>>(huge_array),
                      Contains("declares more elements"));
    // Nested headers, each declaring a million pairs, then a long string: msgpack builds a
    // container's elements when it reads the header, so before the declared elements were
    // counted against the input this 16 MiB body cost 4 GiB of heap (found by codec_fuzz).
    std::string nested;
    for (int i = 0; i < 64; ++i) {
        nested += std::string("\xdf\x00\x0f\xff\xff", 5);
    }
    nested += zpat::pack(std::string(std::size_t{16} << 20, 'x'));
    using nested_maps = std::map<std::string, int>;
    CHECK_THROWS_WITH(zpat::unpack<nested_maps>(nested), Contains("declares more elements"));
    // A 4 GiB string header: strings point into the input, so this is simply short of bytes.
    const std::string huge_string("\xdb\xff\xff\xff\xff", 5);
    CHECK_THROWS_AS(zpat::unpack<std::string>(huge_string), zpat::decode_error);
    // 100 nested arrays, past the default depth of 64.
    const std::string deep(100, '\x91');
    CHECK_THROWS_WITH(zpat::unpack<std::vector<int>>(deep + '\x01'), Contains("deeper"));
    // Within the limits a caller sets.
    CHECK_THROWS_AS(zpat::unpack<std::vector<int>>(zpat::pack(std::vector<int>(10, 1)),
                                                   zpat::decode_limits{.max_array = 5}),
                    zpat::decode_error);
}
