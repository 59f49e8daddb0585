#include "output.hpp"

#include <array>
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

bool is_utf8(std::string_view bytes) {
    std::size_t i = 0;
    while (i < bytes.size()) {
        const auto lead = static_cast<unsigned char>(bytes[i]);
        std::size_t extra = 0;
        if (lead < 0x80) {
            extra = 0;
        } else if ((lead >> 5U) == 0x6) {
            extra = 1;
        } else if ((lead >> 4U) == 0xe) {
            extra = 2;
        } else if ((lead >> 3U) == 0x1e) {
            extra = 3;
        } else {
            return false;
        }
        if (i + extra >= bytes.size()) {
            return false;  // the sequence runs past the end
        }
        for (std::size_t k = 1; k <= extra; ++k) {
            if ((static_cast<unsigned char>(bytes[i + k]) >> 6U) != 0x2) {
                return false;
            }
        }
        i += extra + 1;
    }
    return true;
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

// A JSON value for one frame: a string when the bytes are UTF-8, else {"base64": "..."}.
void append_json_frame(std::string& out, std::string_view bytes) {
    if (!is_utf8(bytes)) {
        out += R"({"base64":")" + base64(bytes) + "\"}";
        return;
    }
    out += '"';
    for (char c : bytes) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (byte < 0x20) {
            out += "\\u00";
            out += hex_digits[byte >> 4U];
            out += hex_digits[byte & 0xfU];
        } else {
            out += c;
        }
    }
    out += '"';
}

std::string as_json(const message& msg, bool has_topic) {
    std::string out = "{";
    std::size_t first = 0;
    if (has_topic && !msg.empty()) {
        out += "\"topic\":";
        append_json_frame(out, msg[0]);
        out += ',';
        first = 1;
    }
    out += "\"frames\":[";
    for (std::size_t i = first; i < msg.size(); ++i) {
        if (i > first) {
            out += ',';
        }
        append_json_frame(out, msg[i]);
    }
    out += "],\"bytes\":" + std::to_string(msg.byte_size()) + "}";
    return out;
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
            line = as_json(msg, has_topic);
            break;
        case output_format::raw:
            for (std::size_t i = has_topic ? 1 : 0; i < msg.size(); ++i) {
                line += msg[i];
            }
            break;
        case output_format::text:
            line = readable(msg);
            break;
    }
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);
}

}  // namespace zpat::cli
