#pragma once
// What a zpat::datagram knows of the peer a datagram came from (zpat/datagram.hpp).

#include <string>

namespace zpat {

struct datagram_peer {
    std::string text;    // numeric "host:port", "[v6 host]:port" for IPv6: for people
    std::string native;  // the socket address as the system gave it: what a reply is aimed at
    friend bool operator==(const datagram_peer& a, const datagram_peer& b) {
        return a.native == b.native;
    }
    friend bool operator<(const datagram_peer& a, const datagram_peer& b) {
        return a.native < b.native;
    }
};

struct datagram_received {
    std::string bytes;  // the whole datagram; may be empty (UDP carries empty datagrams)
    datagram_peer from;
};

}  // namespace zpat
