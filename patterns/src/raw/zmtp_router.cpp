#include "zmtp_router.hpp"

#include <array>
#include <string_view>

namespace zpat::detail {
namespace {

constexpr std::array<std::string_view, 3> router_peers{"DEALER", "REQ", "ROUTER"};

}  // namespace

zmtp_router::zmtp_router(const std::vector<endpoint>& binds, const options& opts)
    : zmtp_socket(binds, opts, {"ROUTER", router_peers, "zmtp router"}) {}

zmtp_router::~zmtp_router() {
    inbox_.clear();  // nobody will take them
    linger();
}

bool zmtp_router::receive(message& into, milliseconds timeout) {
    return receive_waiting(into, timeout);
}

bool zmtp_router::send(const message& msg) {
    const auto found = named_.find(msg[0]);
    if (found == named_.end()) {
        ++unroutable_;
        return false;
    }
    named_peer& p = *found->second;
    if (full(p)) {
        return false;
    }
    zmtp::encode(msg, p.conn.outgoing(), 1);
    ++p.unwritten;
    if (!p.watching_output) {
        flush(p);
    }
    return true;
}

void zmtp_router::readable(peer& base) {
    auto& p = static_cast<named_peer&>(base);
    const auto bytes = receive_from(p);
    if (!bytes) {
        return;  // closed
    }
    const std::size_t dropped = p.conn.dropped();
    const bool open = p.conn.take(*bytes, [&](message& msg) {
        note_greeted(p);  // its READY may have come in this read, named before its messages
        message& in = inbox_.emplace_back();
        in.push_back(std::string_view(p.identity));
        for (std::size_t i = 0; i < msg.size(); ++i) {
            in.push_back(std::move(msg[i]));
        }
    });
    oversized_ += p.conn.dropped() - dropped;
    settle(p, open);
}

void zmtp_router::greeted(peer& base) {
    // The name messages from it carry, and sends to it give: its own if free, else one made
    // up (0x00 and a counter, which no READY may claim; past 2^32 connections the counter
    // wraps, and a number still in use is passed over).
    auto& p = static_cast<named_peer&>(base);
    std::string wanted = p.conn.peer_identity();
    while (wanted.empty() || named_.contains(wanted)) {
        wanted.assign(1, '\0');
        const std::uint32_t n = next_identity_++;
        for (int shift = 24; shift >= 0; shift -= 8) {
            wanted += static_cast<char>((n >> static_cast<unsigned>(shift)) & 0xFFU);
        }
    }
    p.identity = std::move(wanted);
    named_.emplace(p.identity, &p);
}

void zmtp_router::closing(peer& base) {
    auto& p = static_cast<named_peer&>(base);
    if (!p.identity.empty()) {
        named_.erase(p.identity);
    }
}

}  // namespace zpat::detail
