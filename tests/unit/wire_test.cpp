// The raw wire format's codec, byte for byte against docs/wire-format.md.

#include <catch2/catch.hpp>

#include "wire.hpp"

using namespace zpat::detail;
using zpat::message;

TEST_CASE("wire: a message encodes as a frame count and length-prefixed frames") {
    std::string bytes;
    wire::encode(message{"ab", ""}, bytes);
    CHECK(bytes == std::string("\0\0\0\2\0\0\0\2ab\0\0\0\0", 14));
}

TEST_CASE("wire: the decoder yields whole messages from any split of the stream") {
    std::string stream;
    wire::encode(message{"first"}, stream);
    wire::encode(message{"second", std::string(1000, 'x')}, stream);
    for (std::size_t split = 0; split <= stream.size(); split += 7) {
        wire::decoder decoder(1 << 20);
        message msg;
        std::size_t used = 0;
        const std::string_view head = std::string_view(stream).substr(0, split);
        const auto status = decoder.next(head, msg, used);
        if (split < 4 + 4 + 5) {
            CHECK(status == wire::decoder::status::need_more);
        } else {
            REQUIRE(status == wire::decoder::status::message_ready);
            CHECK(msg == message{"first"});
        }
    }
    wire::decoder decoder(1 << 20);
    message msg;
    std::size_t used = 0;
    REQUIRE(decoder.next(stream, msg, used) == wire::decoder::status::message_ready);
    REQUIRE(decoder.next(std::string_view(stream).substr(used), msg, used) ==
            wire::decoder::status::message_ready);
    CHECK(msg.size() == 2);
    CHECK(msg[1].size() == 1000);
}

TEST_CASE("wire: lengths over the limit are refused as soon as their header arrives") {
    wire::decoder decoder(100);
    message msg;
    std::size_t used = 0;
    CHECK(decoder.next(std::string("\0\0\0\1\0\0\0\x65", 8), msg, used) ==
          wire::decoder::status::error);
    CHECK_THAT(decoder.reason(), Catch::Matchers::Contains("exceeds max_message_size of 100"));
    CHECK(decoder.next(std::string("\0\0\0\0", 4), msg, used) == wire::decoder::status::error);
    CHECK(decoder.next(std::string("\xff\xff\xff\xff", 4), msg, used) ==
          wire::decoder::status::error);
}

TEST_CASE("wire: a message of 1024 frames is taken, one of 1025 refused by its header alone") {
    message most;
    for (std::uint32_t i = 0; i < wire::max_frames; ++i) {
        most.push_back("");
    }
    std::string bytes;
    wire::encode(most, bytes);
    wire::decoder decoder(100);
    message msg;
    std::size_t used = 0;
    REQUIRE(decoder.next(bytes, msg, used) == wire::decoder::status::message_ready);
    CHECK(msg.size() == wire::max_frames);
    CHECK(decoder.next(std::string("\0\0\x04\x01", 4), msg, used) == wire::decoder::status::error);
    CHECK_THAT(decoder.reason(), Catch::Matchers::Contains("declares 1025 frames"));
}

TEST_CASE("wire: greetings name role and version, and the wrong ones are refused with a reason") {
    CHECK(wire::greeting(wire::role::pusher) == std::string("ZPAT\1u\0\0", 8));
    CHECK(wire::check_greeting(wire::greeting(wire::role::pusher), wire::role::pusher).empty());
    CHECK_THAT(wire::check_greeting("HTTP/1.1", wire::role::pusher),
               Catch::Matchers::Contains("not a zpat"));
    CHECK_THAT(wire::check_greeting(std::string("ZPAT\2u\0\0", 8), wire::role::pusher),
               Catch::Matchers::Contains("version 2"));
    CHECK_THAT(wire::check_greeting(wire::greeting(wire::role::publisher), wire::role::pusher),
               Catch::Matchers::Contains("is a publisher, but only a pusher"));
}
