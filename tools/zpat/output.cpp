#include "output.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>

namespace zpat::cli {
namespace {

constexpr char hex_digits[] = "0123456789abcdef";

void append_escaped(std::string& out, std::string_view bytes) {
    for (char c : bytes) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte >= 0x20 && byte < 0x7f && c != '\\') {
            out += c;
        } else if (c == '\\') {
            out += "\\\\";
        } else {
            out += "\\x";
            out += hex_digits[byte >> 4U];
            out += hex_digits[byte & 0xfU];
        }
    }
}

std::string base64(std::string_view bytes) {
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::uint32_t buffer = 0;
    int bits = 0;
    for (char c : bytes) {
        buffer = (buffer << 8U) | static_cast<unsigned char>(c);
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out += alphabet[(buffer >> static_cast<unsigned>(bits)) & 0x3fU];
        }
    }
    if (bits > 0) {
        out += alphabet[(buffer << static_cast<unsigned>(6 - bits)) & 0x3fU];
    }
    while (out.size() % 4 != 0) {
        out += '=';
    }
    return out;
}

// A JSON value for one frame: a string when the bytes are valid UTF-8 (as nlohmann-json checks
// it: no overlong forms, surrogates or code points above U+10FFFF), else {"base64": "..."}.
nlohmann::ordered_json frame_json(std::string_view bytes) {
    nlohmann::ordered_json text = std::string(bytes);
    try {
        (void)text.dump();  // strict: throws on bytes that are not UTF-8
        return text;
    } catch (const nlohmann::ordered_json::type_error&) {
        return {{"base64", base64(bytes)}};
    }
}

std::string as_json(const message& msg, bool has_topic) {
    nlohmann::ordered_json out = nlohmann::ordered_json::object();
    std::size_t first = 0;
    if (has_topic && !msg.empty()) {
        out["topic"] = frame_json(msg[0]);
        first = 1;
    }
    nlohmann::ordered_json frames = nlohmann::ordered_json::array();
    for (std::size_t i = first; i < msg.size(); ++i) {
        frames.push_back(frame_json(msg[i]));
    }
    out["frames"] = std::move(frames);
    out["bytes"] = msg.byte_size();
    return out.dump();
}

}  // namespace

std::string readable(const message& msg, std::size_t first_frame) {
    std::string out;
    for (std::size_t i = first_frame; i < msg.size(); ++i) {
        if (i > first_frame) {
            out += ' ';
        }
        append_escaped(out, msg[i]);
    }
    return out;
}

void print_message(const message& msg, output_format format, bool has_topic) {
    std::string line;
    switch (format) {
        case output_format::json:
            line = as_json(msg, has_topic) + '\n';
            break;
        case output_format::raw:  // the payload's bytes exactly: nothing added between messages
            for (std::size_t i = has_topic ? 1 : 0; i < msg.size(); ++i) {
                line += msg[i];
            }
            break;
        case output_format::text:
            line = readable(msg) + '\n';
            break;
    }
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);
}

}  // namespace zpat::cli
