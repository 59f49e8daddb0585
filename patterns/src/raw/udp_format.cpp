// The raw+udp datagram format (docs/wire-format.md, section 5): a 16-byte header and the body
// in the wire format. Apart from the socket code in udp.cpp, so that a fuzzer builds it alone.

#include <string>
#include <string_view>

#include "udp.hpp"
#include "zpat/core/error.hpp"

namespace zpat::detail::udp {
namespace {

constexpr std::string_view magic = "ZPAT";
constexpr std::size_t id_offset = 8;  // magic, version, role, kind, a reserved byte

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
    return c == 'Q' || c == 'R' || c == 'S' || c == 'X' || c == 'P';
}

}  // namespace

void encode(const datagram& d, std::string& out) {
    out.assign(magic);
    out += static_cast<char>(wire::version);
    out += static_cast<char>(d.from);
    out += static_cast<char>(d.what);
    out += '\0';
    append_u64(out, d.id);
    if (!d.body.empty()) {
        wire::encode(d.body, out);
    }
    if (out.size() > max_datagram) {
        throw message_size_error("message of " + std::to_string(d.body.byte_size()) +
                                 " bytes does not fit one UDP datagram (at most " +
                                 std::to_string(max_datagram - header_size - 8) +
                                 " bytes of payload); use raw+tcp:// for larger messages");
    }
}

void set_id(std::string& encoded, std::uint64_t id) {
    for (std::size_t i = 0; i < 8; ++i) {
        encoded[id_offset + i] = static_cast<char>(id >> (56 - 8 * i));
    }
}

std::optional<datagram> decode(std::string_view bytes, wire::role peer_role,
                               std::size_t max_message_size, std::size_t max_message_frames) {
    if (bytes.size() < header_size || bytes.substr(0, 4) != magic ||
        static_cast<std::uint8_t>(bytes[4]) != wire::version ||
        bytes[5] != static_cast<char>(peer_role) || !is_kind(bytes[6]) || bytes[7] != '\0') {
        return std::nullopt;
    }
    datagram d;
    d.from = peer_role;
    d.what = static_cast<kind>(bytes[6]);
    d.id = read_u64(bytes, id_offset);
    const std::string_view rest = bytes.substr(header_size);
    if (!rest.empty()) {
        wire::decoder decoder(max_message_size, max_message_frames);
        std::size_t used = 0;
        if (decoder.next(rest, d.body, used) != wire::decoder::status::message_ready ||
            used != rest.size()) {
            return std::nullopt;
        }
    }
    return d;
}

}  // namespace zpat::detail::udp
