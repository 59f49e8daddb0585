// Chat server on plain sockets: the tutorials' own chat room, so that their clients (or
// chat_client --server) meet in it without a broker.
//
//   role:   zpat::stream on raw+tcp://, zpat::datagram on raw+udp://
//   binds:  --endpoint (default raw+tcp://127.0.0.1:6791)
//
// TCP: every line a client sends goes to every other connected client, unchanged; a client
// that disconnects is forgotten. A line longer than 4 KiB goes out in 4 KiB pieces. While a
// member's queue is full (1,000 messages), the room waits for it, and so stops reading whoever
// talks: a flood goes at the pace of the slowest reader. A member whose queue stays full for a
// second is disconnected, so that nobody's memory grows and nobody holds up the room for long.
// UDP: the sender of a first datagram becomes a member; each datagram goes to every other
// member; a datagram "quit" ends the sender's membership (UDP never says that anyone left).
// At most 256 members.

#include <algorithm>
#include <iostream>
#include <map>
#include <set>

#include "common/args.hpp"
#include "zpat/zpat.hpp"

namespace {

constexpr std::size_t longest_line = 4096;
constexpr std::size_t most_members = 256;

void serve_stream(const std::string& endpoint) {
    using type = zpat::stream::event::type;
    zpat::stream room(endpoint, {.send_timeout = zpat::milliseconds(1000)});
    std::cout << "chat_server: listening on " << room.endpoints().front() << std::endl;
    std::map<zpat::stream::connection_id, std::string> members;  // each one's unfinished line
    auto relay = [&](zpat::stream::connection_id from, const std::string& line) {
        std::vector<zpat::stream::connection_id> too_slow;
        for (const auto& [id, unused] : members) {
            if (id != from && !room.send(id, line)) {
                too_slow.push_back(id);
            }
        }
        for (auto id : too_slow) {
            std::cout << "chat_server: member " << id << " is too slow; disconnected" << std::endl;
            room.close(id);
            members.erase(id);
        }
    };
    for (;;) {
        auto ev = room.receive();
        const auto id = ev->connection;
        if (ev->what == type::opened) {
            if (members.size() == most_members) {
                std::cout << "chat_server: the room is full (" << most_members << "); member " << id
                          << " turned away" << std::endl;
                room.close(id);
                continue;
            }
            members[id];
            std::cout << "chat_server: member " << id << " joined (" << members.size()
                      << " in the room)" << std::endl;
        } else if (ev->what == type::closed) {
            members.erase(id);
            std::cout << "chat_server: member " << id << " left (" << members.size()
                      << " in the room)" << std::endl;
        } else if (members.contains(id)) {
            std::string& pending = members[id];
            pending += ev->bytes;
            for (auto end = pending.find('\n');
                 end != std::string::npos || pending.size() >= longest_line;
                 end = pending.find('\n')) {
                const std::size_t size =
                    std::min(end == std::string::npos ? end : end + 1, longest_line);
                const std::string line = pending.substr(0, size);
                pending.erase(0, size);
                relay(id, line);
            }
        }
    }
}

void serve_datagrams(const std::string& endpoint) {
    zpat::datagram room(endpoint);
    std::cout << "chat_server: listening on " << room.endpoints().front() << std::endl;
    std::set<zpat::datagram::peer> members;
    for (;;) {
        auto got = room.receive();
        const bool member = members.contains(got->from);
        if (got->bytes == "quit" || got->bytes == "quit\n") {
            if (members.erase(got->from) != 0) {
                std::cout << "chat_server: " << got->from.text << " left (" << members.size()
                          << " in the room)" << std::endl;
            }
            continue;
        }
        if (!member) {
            if (members.size() == most_members) {
                continue;
            }
            members.insert(got->from);
            std::cout << "chat_server: " << got->from.text << " joined (" << members.size()
                      << " in the room)" << std::endl;
        }
        for (const auto& other : members) {
            if (!(other == got->from)) {
                room.send(other, got->bytes);
            }
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    example::args args(argc, argv, "chat_server: the tutorials' plain chat room, over TCP or UDP");
    const std::string endpoint =
        example::bind_to(args.text("--endpoint", "raw+tcp://127.0.0.1:6791",
                                   "Where to listen: raw+tcp://HOST:PORT or raw+udp://HOST:PORT"));
    args.check();
    try {
        if (zpat::backend_name(endpoint) == "raw+udp") {
            serve_datagrams(endpoint);
        } else {
            serve_stream(endpoint);
        }
    } catch (const zpat::error& e) {
        std::cerr << "chat_server: " << e.what() << std::endl;
        return 1;
    }
}
