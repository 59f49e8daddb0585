// libFuzzer target for two parsers of untrusted text: the raw+udp datagram format (what any
// host may send a raw+udp role) and the endpoint lists users, config files and command lines
// give. The first byte picks which; the rest is the input (after "ZPAT" and the version, in
// one of the modes, so that the fuzzer spends its time past the magic).
// - Datagrams: decoding never crashes, hangs or over-reads; a datagram it accepts has a known
//   kind, a body within the size and frame limits, and encodes back to exactly the bytes it
//   came from (one encoding per datagram, so no two inputs mean the same and a checker can
//   compare bytes). A message the input generates, encoded and decoded, comes back equal.
// - Endpoints: parsing either refuses with endpoint_error or returns endpoints, each with a
//   scheme, an address and a side, whose URLs, joined again with their sides, parse to the same
//   list.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "udp.hpp"
#include "zpat/core/endpoint.hpp"
#include "zpat/core/error.hpp"

namespace {

using zpat::message;
namespace udp = zpat::detail::udp;
namespace wire = zpat::detail::wire;

constexpr std::size_t size_limit = 512;
constexpr std::size_t frame_limit = 16;

void require(bool condition) {
    if (!condition) {
        std::abort();
    }
}

void any_datagram(std::string_view bytes) {
    for (const auto role : {wire::role::requester, wire::role::replier, wire::role::publisher,
                            wire::role::subscriber}) {
        const auto got = udp::decode(bytes, role, size_limit, frame_limit);
        if (!got) {
            continue;
        }
        require(got->from == role);
        require(got->body.byte_size() <= size_limit && got->body.size() <= frame_limit);
        std::string again;
        udp::encode(*got, again);
        require(again == bytes);
    }
}

// "ZPAT", the version, a role and a kind picked by the first two bytes, then the rest as it is
// (the flags, the id, a cookie, the body): a header right up to the bytes that are left to test.
std::string with_header(std::string_view bytes) {
    if (bytes.size() < 2) {
        return std::string(bytes);
    }
    const auto roles = std::string_view("qrps");
    const auto kinds = std::string_view("QRSXPC");
    std::string out = "ZPAT\x01";
    out += roles[static_cast<unsigned char>(bytes[0]) % roles.size()];
    out += kinds[static_cast<unsigned char>(bytes[1]) % kinds.size()];
    out += bytes.substr(2);
    return out;
}

// The input as a message: frames split at each 0xff byte, at most frame_limit of them.
void generated_datagram(std::string_view bytes) {
    if (bytes.size() < 2) {
        return;
    }
    const auto kinds = std::string_view("QRSXPC");
    udp::datagram d;
    d.from = wire::role::publisher;
    d.what = static_cast<udp::kind>(kinds[static_cast<unsigned char>(bytes[0]) % kinds.size()]);
    d.id = static_cast<unsigned char>(bytes[1]) * 0x0101010101010101ULL;
    if ((static_cast<unsigned char>(bytes[1]) & 1U) != 0) {
        d.cookie = ~d.id;
    }
    std::string frame;
    for (const char c : bytes.substr(2)) {
        if (static_cast<unsigned char>(c) == 0xff && d.body.size() + 1 < frame_limit) {
            d.body.push_back(std::move(frame));
            frame.clear();
        } else {
            frame += c;
        }
    }
    d.body.push_back(std::move(frame));
    std::string encoded;
    udp::encode(d, encoded);
    const auto got = udp::decode(encoded, d.from, size_limit + 64, frame_limit);
    const bool fits = d.body.byte_size() <= size_limit + 64;
    require(got.has_value() == fits);
    if (got) {
        require(got->what == d.what && got->id == d.id && got->cookie == d.cookie &&
                got->body == d.body);
    }
}

void endpoints(std::string_view text) {
    std::vector<zpat::endpoint> list;
    try {
        list = zpat::parse_endpoints(text, zpat::link::connect);
    } catch (const zpat::endpoint_error&) {
        return;  // refused by name: fine
    }
    std::string joined;
    for (const zpat::endpoint& ep : list) {
        require(!ep.scheme.empty() && !ep.address.empty());
        joined += (joined.empty() ? "" : ",") +
                  std::string(ep.side == zpat::link::bind ? "@" : ">") + ep.url();
    }
    const auto again = zpat::parse_endpoints(joined, zpat::link::bind);
    require(again.size() == list.size());
    for (std::size_t i = 0; i < list.size(); ++i) {
        require(again[i].scheme == list[i].scheme && again[i].address == list[i].address &&
                again[i].side == list[i].side);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 4) {
        case 0:
            any_datagram(rest);
            break;
        case 1:
            any_datagram(with_header(rest));
            break;
        case 2:
            generated_datagram(rest);
            break;
        default:
            endpoints(rest);
            break;
    }
    return 0;
}
