#pragma once
// The tutorial's application protocol, both ways: every message is
//
//   +------------------+----------------------------+---------------------------+
//   | header length    | header: UTF-8 JSON         | content                   |
//   | 2 bytes, big-end | byteorder, content-type,   | content-length bytes      |
//   |                  | content-encoding,          |                           |
//   |                  | content-length             |                           |
//   +------------------+----------------------------+---------------------------+
//
// TCP carries bytes, not messages: a read may bring half a header or two messages at once. The
// reader below buffers what arrives and hands out whole messages only, checking every length
// before it trusts it.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace app {

// What a peer sent that is not this protocol; the message says what was wrong.
struct protocol_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct message {
    nlohmann::json header;
    std::string content;
};

// The most content this side accepts from a peer: checked before anything is allocated.
inline constexpr std::size_t max_content = std::size_t{1} << 20;

inline std::string encode(std::string_view content_type, std::string_view content_encoding,
                          std::string_view content) {
    const nlohmann::json header = {
        {"byteorder", std::endian::native == std::endian::little ? "little" : "big"},
        {"content-type", content_type},
        {"content-encoding", content_encoding},
        {"content-length", content.size()},
    };
    const std::string text = header.dump();  // UTF-8, as the protocol says
    std::string out;
    out += static_cast<char>((text.size() >> 8) & 0xff);  // network byte order: high byte first
    out += static_cast<char>(text.size() & 0xff);
    out += text;
    out += content;
    return out;
}

class reader {
  public:
    void feed(std::string_view bytes) { buffer_ += bytes; }

    // The next whole message, or nullopt until more bytes come. Throws: protocol_error.
    std::optional<message> next() {
        if (buffer_.size() < 2) {
            return std::nullopt;
        }
        const std::size_t header_size = std::size_t{static_cast<unsigned char>(buffer_[0])} << 8 |
                                        std::size_t{static_cast<unsigned char>(buffer_[1])};
        if (buffer_.size() < 2 + header_size) {
            return std::nullopt;
        }
        if (!header_) {
            header_ = parse_header(std::string_view(buffer_).substr(2, header_size));
        }
        const auto content_size = (*header_)["content-length"].get<std::size_t>();
        if (buffer_.size() < 2 + header_size + content_size) {
            return std::nullopt;
        }
        message whole{std::move(*header_), buffer_.substr(2 + header_size, content_size)};
        header_.reset();
        buffer_.erase(0, 2 + header_size + content_size);
        return whole;
    }

  private:
    static nlohmann::json parse_header(std::string_view text) {
        nlohmann::json header = nlohmann::json::parse(text, nullptr, false);
        if (header.is_discarded() || !header.is_object()) {
            throw protocol_error("the header is not a JSON object");
        }
        for (const char* field : {"byteorder", "content-type", "content-encoding"}) {
            if (!header.contains(field) || !header[field].is_string()) {
                throw protocol_error(std::string("the header has no '") + field + "' string");
            }
        }
        const auto& length = header["content-length"];
        if (!length.is_number_unsigned() || length.get<std::size_t>() > max_content) {
            throw protocol_error("the header's 'content-length' is not a number from 0 to " +
                                 std::to_string(max_content));
        }
        return header;
    }

    std::string buffer_;
    std::optional<nlohmann::json> header_;  // parsed once, while its content arrives
};

}  // namespace app
