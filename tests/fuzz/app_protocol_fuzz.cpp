// libFuzzer target for the tutorial's application-protocol reader (examples/tutorial/
// 08-app-protocol/app_protocol.hpp): a two-byte header length, a JSON header, then content,
// over TCP, where a read may bring any piece of the stream. For any bytes:
// - reading never crashes, hangs or over-reads, and fails only with protocol_error;
// - the bytes fed in one piece and fed in pieces of sizes the input picks give the same
//   messages and the same error, if any (a reader that depends on how TCP cut the stream is
//   wrong);
// - each message keeps the protocol: a JSON object with the three string fields and a
//   content-length equal to its content's size, at most app::max_content;
// - any content, encoded, is read back whole.
// The first byte picks the piece sizes; the rest is the stream.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "app_protocol.hpp"
#include "fuzz_check.hpp"

namespace {

struct outcome {
    std::vector<app::message> messages;
    std::string error;  // empty when the stream ended without one
};

// Reads `stream` fed in pieces of `piece` bytes (all of it at once for 0).
outcome read_all(std::string_view stream, std::size_t piece) {
    app::reader reader;
    outcome out;
    if (piece == 0) {
        piece = stream.size() + 1;
    }
    try {
        for (std::size_t at = 0; at < stream.size(); at += piece) {
            reader.feed(stream.substr(at, piece));
            while (auto message = reader.next()) {
                out.messages.push_back(std::move(*message));
            }
        }
    } catch (const app::protocol_error& e) {
        out.error = e.what();
    }
    return out;
}

void keeps_the_protocol(const app::message& m) {
    FUZZ_CHECK(m.header.is_object());
    for (const char* field : {"byteorder", "content-type", "content-encoding"}) {
        FUZZ_CHECK(m.header.contains(field) && m.header.at(field).is_string());
    }
    FUZZ_CHECK(m.header.at("content-length").get<std::size_t>() == m.content.size());
    FUZZ_CHECK(m.content.size() <= app::max_content);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
    const outcome whole = read_all(stream, 0);
    const outcome pieces = read_all(stream, 1 + data[0] % 7);
    FUZZ_CHECK(whole.messages.size() == pieces.messages.size());
    FUZZ_CHECK(whole.error == pieces.error);
    for (std::size_t i = 0; i < whole.messages.size(); ++i) {
        keeps_the_protocol(whole.messages[i]);
        FUZZ_CHECK(whole.messages[i].header == pieces.messages[i].header);
        FUZZ_CHECK(whole.messages[i].content == pieces.messages[i].content);
    }
    // A message the input's content makes, encoded, is read back whole.
    app::reader reader;
    reader.feed(app::encode("text/plain", "utf-8", stream));
    const auto back = reader.next();
    FUZZ_CHECK(back && back->content == stream);
    return 0;
}
