#include <catch2/catch.hpp>

#include "zpat/core/message.hpp"

using zpat::message;

TEST_CASE("a message keeps its frames in order, binary-safe") {
    const std::string binary("a\0b", 3);
    message msg{"topic", binary};
    msg.push_back("tail");
    msg.push_front("head");
    REQUIRE(msg.size() == 4);
    CHECK(msg[0] == "head");
    CHECK(msg[2] == binary);
    CHECK(msg[2].size() == 3);
    CHECK(msg.byte_size() == 4 + 5 + 3 + 4);
    CHECK(msg.pop_front() == "head");
    CHECK(msg.front() == "topic");
    CHECK(msg.back() == "tail");
}

TEST_CASE("message accessors refuse out-of-range frames") {
    message msg;
    CHECK_THROWS_AS(msg.at(0), std::out_of_range);
    CHECK_THROWS_AS(msg.pop_front(), std::out_of_range);
}

TEST_CASE("assign_frame reuses frames and truncate drops the rest") {
    message msg{"one", "two", "three"};
    msg.assign_frame(0, "uno");
    msg.assign_frame(3, "four");
    msg.truncate(2);
    CHECK(msg == message{"uno", "two"});
}
