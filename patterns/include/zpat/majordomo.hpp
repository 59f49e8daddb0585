#pragma once
// The vocabulary of the Majordomo Protocol, MDP/0.1 (ZeroMQ RFC 7/MDP) and its management
// interface (RFC 8/MMI): the frames zpat's service client, service worker and broker exchange.
// Frames are listed as they appear after a ROUTER's identity frame. Any MDP/0.1 peer written from
// the RFCs talks to zpat's roles and broker unchanged.
//
//   client -> broker   ""  "MDPC01"  service  body...
//   broker -> client   ""  "MDPC01"  service  body...
//   worker <-> broker  ""  "MDPW01"  command  (READY: service | REQUEST, REPLY: client "" body...)

#include <string_view>

namespace zpat::mdp {

inline constexpr std::string_view client_header = "MDPC01";
inline constexpr std::string_view worker_header = "MDPW01";

// Worker commands: frame 2 of a worker message, one byte.
enum class command : char {
    ready = 0x01,
    request = 0x02,
    reply = 0x03,
    heartbeat = 0x04,
    disconnect = 0x05,
};

// The frame that carries `c`.
constexpr std::string_view frame_of(command c) {
    switch (c) {
        case command::ready:
            return "\x01";
        case command::request:
            return "\x02";
        case command::reply:
            return "\x03";
        case command::heartbeat:
            return "\x04";
        case command::disconnect:
            return "\x05";
    }
    return {};
}

// Services whose names start with this prefix belong to the broker itself (MMI).
inline constexpr std::string_view mmi_prefix = "mmi.";
// mmi.service: body [service name]; reply "200" when a worker serves it, else "404".
inline constexpr std::string_view mmi_service = "mmi.service";
inline constexpr std::string_view mmi_found = "200";
inline constexpr std::string_view mmi_not_found = "404";
inline constexpr std::string_view mmi_not_implemented = "501";

}  // namespace zpat::mdp
