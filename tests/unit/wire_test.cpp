// The raw wire format's codec, byte for byte against docs/wire-format.md.

#include <catch2/catch.hpp>
#include <vector>

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

namespace {

// Feeds `stream` to a stream decoder in pieces of `piece` bytes. Returns the messages it yields,
// or stops at the first error.
std::vector<message> feed_in_pieces(wire::stream_decoder& decoder, std::string_view stream,
                                    std::size_t piece) {
    std::vector<message> got;
    message building;
    while (!stream.empty()) {
        std::string_view input = stream.substr(0, piece);
        stream.remove_prefix(input.size());
        for (;;) {
            const auto status = decoder.feed(input, building);
            if (status == wire::stream_decoder::status::error) {
                return got;
            }
            if (status == wire::stream_decoder::status::need_more) {
                REQUIRE(input.empty());
                break;
            }
            got.push_back(building);
        }
    }
    return got;
}

}  // namespace

TEST_CASE("wire: the stream decoder yields the same messages from any split of the stream") {
    const std::vector<message> sent{message{"first"}, message{"second", std::string(1000, 'x')},
                                    message{"", "", "third"}, message{std::string(70000, 'y')}};
    std::string stream;
    for (const message& msg : sent) {
        wire::encode(msg, stream);
    }
    for (std::size_t piece :
         {std::size_t{1}, std::size_t{3}, std::size_t{7}, std::size_t{4096}, stream.size()}) {
        CAPTURE(piece);
        wire::stream_decoder decoder(1 << 20);
        CHECK(feed_in_pieces(decoder, stream, piece) == sent);
        CHECK_FALSE(decoder.mid_message());
    }
    wire::stream_decoder decoder(1 << 20);
    std::string_view head = std::string_view(stream).substr(0, 6);
    message building;
    CHECK(decoder.feed(head, building) == wire::stream_decoder::status::need_more);
    CHECK(decoder.mid_message());
    CHECK(decoder.partial_bytes() == 6);
}

TEST_CASE("wire: the stream decoder refuses what the whole-buffer decoder refuses, by header") {
    message building;
    wire::stream_decoder over(100);
    std::string_view big("\0\0\0\1\0\0\0\x65", 8);
    CHECK(over.feed(big, building) == wire::stream_decoder::status::error);
    CHECK_THAT(over.reason(), Catch::Matchers::Contains("exceeds max_message_size of 100"));
    wire::stream_decoder none(100);
    std::string_view zero("\0\0\0\0", 4);
    CHECK(none.feed(zero, building) == wire::stream_decoder::status::error);
    wire::stream_decoder many(100);
    std::string_view lots("\0\0\x04\x01", 4);
    CHECK(many.feed(lots, building) == wire::stream_decoder::status::error);
    CHECK_THAT(many.reason(), Catch::Matchers::Contains("1025 frames"));
}

TEST_CASE("wire: a declared large frame holds memory only as its bytes arrive") {
    const std::size_t declared = 64 * 1024 * 1024;
    wire::stream_decoder decoder(declared);
    std::string head("\0\0\0\1", 4);
    head += static_cast<char>((declared >> 24U) & 0xffU);
    head += static_cast<char>((declared >> 16U) & 0xffU);
    head += static_cast<char>((declared >> 8U) & 0xffU);
    head += static_cast<char>(declared & 0xffU);
    head += std::string(1000, 'z');
    std::string_view input = head;
    message building;
    CHECK(decoder.feed(input, building) == wire::stream_decoder::status::need_more);
    REQUIRE(building.size() == 1);
    CHECK(building[0].size() == 1000);
    CHECK(building[0].capacity() < 64 * 1024);  // not the 64 MiB it declared
}

TEST_CASE("wire: scan finds the whole messages at the front, checking the headers after them") {
    std::string stream;
    wire::encode(message{"a", "first"}, stream);
    const std::size_t first = stream.size();
    wire::encode(message{"b", std::string(300, 'x'), ""}, stream);
    const std::size_t both = stream.size();
    wire::decoder decoder(1000);
    wire::decoder::scanned found;
    for (std::size_t cut = 0; cut <= both; ++cut) {
        const auto status = decoder.scan(std::string_view(stream).substr(0, cut), found);
        CAPTURE(cut);
        if (cut < first) {
            CHECK(status == wire::decoder::status::need_more);
        } else {
            REQUIRE(status == wire::decoder::status::message_ready);
            CHECK(found.messages == (cut == both ? 2 : 1));
            CHECK(found.bytes == (cut == both ? both : first));
        }
    }
    // A bad header after whole messages: they still count, and the reason is given.
    const std::string bad = stream + std::string("\0\0\0\1\0\0\x04\0", 8);  // 1024 > 1000
    CHECK(decoder.scan(bad, found) == wire::decoder::status::error);
    CHECK(found.messages == 2);
    CHECK(found.bytes == both);
    CHECK_THAT(decoder.reason(), Catch::Matchers::Contains("exceeds max_message_size of 1000"));
}

TEST_CASE("wire: an encoded message is read in place, frame by frame") {
    std::string bytes;
    wire::encode(message{"topic", "", "body"}, bytes);
    bytes += "what follows";
    const auto m = wire::encoded_message::at(bytes);
    CHECK(m.bytes.size() == bytes.size() - 12);
    CHECK(m.first_frame == "topic");
    CHECK(m.frames == 3);
    CHECK(m.payload == 9);
    std::size_t at = 4;
    CHECK(m.frame(at) == "topic");
    CHECK(m.frame(at).empty());
    CHECK(m.frame(at) == "body");
    CHECK(at == m.bytes.size());
}
