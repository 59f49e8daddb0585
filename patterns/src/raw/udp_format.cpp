// The raw+udp datagram format (docs/wire-format.md, section 5): a 16-byte header and the body
// in the wire format. Apart from the socket code in udp.cpp, so that a fuzzer builds it alone.

#include <string>
#include <string_view>

#include "udp.hpp"
#include "zpat/core/error.hpp"

namespace zpat::detail::udp {
namespace {

constexpr std::string_view magic = "ZPAT";
constexpr std::size_t flags_offset = 7;  // magic, version, role, kind, then the flags
constexpr std::size_t id_offset = 8;
constexpr char has_cookie = 1;  // the one flag: a cookie follows the header

void append_u64(std::string& out, std::uint64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8) {
        out += static_cast<char>(v >> static_cast<unsigned>(shift));
    }
}

std::uint64_t read_u64(std::string_view bytes, std::size_t at) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 8; ++i) {
        v = (v << 8U) | static_cast<unsigned char>(bytes[at + i]);
    }
    return v;
}

bool is_kind(char c) {
    return c == 'Q' || c == 'R' || c == 'S' || c == 'X' || c == 'P' || c == 'C';
}

void append_header(std::string& out, wire::role from, kind what, char flags, std::uint64_t id) {
    out.assign(magic);
    out += static_cast<char>(wire::version);
    out += static_cast<char>(from);
    out += static_cast<char>(what);
    out += flags;
    append_u64(out, id);
}

}  // namespace

void encode(const datagram& d, std::string& out) {
    append_header(out, d.from, d.what, d.cookie ? has_cookie : '\0', d.id);
    if (d.cookie) {
        append_u64(out, *d.cookie);
    }
    if (!d.body.empty()) {
        wire::encode(d.body, out);
    }
    if (out.size() > max_datagram) {
        throw message_size_error(
            "message of " + std::to_string(d.body.byte_size()) +
            " bytes does not fit one UDP datagram (at most " +
            std::to_string(max_datagram - header_size - 8 - (d.cookie ? cookie_size : 0)) +
            " bytes of payload); use raw+tcp:// for larger messages");
    }
}

void encode_cookie(wire::role from, std::uint64_t cookie, std::string& out) {
    append_header(out, from, kind::cookie, '\0', cookie);
}

void set_id(std::string& encoded, std::uint64_t id) {
    for (std::size_t i = 0; i < 8; ++i) {
        encoded[id_offset + i] = static_cast<char>(id >> (56 - 8 * i));
    }
}

std::optional<datagram> decode(std::string_view bytes, wire::role peer_role,
                               std::size_t max_message_size, std::size_t max_message_frames) {
    auto d = decode_header(bytes, peer_role);
    if (!d) {
        return std::nullopt;
    }
    const std::string_view rest = bytes.substr(header_size + (d->cookie ? cookie_size : 0));
    if (!rest.empty()) {
        wire::decoder decoder(max_message_size, max_message_frames);
        std::size_t used = 0;
        if (decoder.next(rest, d->body, used) != wire::decoder::status::message_ready ||
            used != rest.size()) {
            return std::nullopt;
        }
    }
    return d;
}

std::optional<datagram> decode_header(std::string_view bytes, wire::role peer_role) {
    if (bytes.size() < header_size || bytes.substr(0, 4) != magic ||
        static_cast<std::uint8_t>(bytes[4]) != wire::version ||
        bytes[5] != static_cast<char>(peer_role) || !is_kind(bytes[6])) {
        return std::nullopt;
    }
    const char flags = bytes[flags_offset];
    if ((flags != '\0' && flags != has_cookie) ||
        (flags == has_cookie && bytes.size() < header_size + cookie_size)) {
        return std::nullopt;
    }
    datagram d;
    d.from = peer_role;
    d.what = static_cast<kind>(bytes[6]);
    d.id = read_u64(bytes, id_offset);
    if (flags == has_cookie) {
        d.cookie = read_u64(bytes, header_size);
    }
    return d;
}

}  // namespace zpat::detail::udp
