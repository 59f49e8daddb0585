// ZMTP 3.1 as zpat's own functions speak it (raw/zmtp.hpp): the bytes, the limits, and a libzmq
// peer that takes them for another libzmq's.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "support/test_support.hpp"
#include "zmtp.hpp"
#include "zmtp_connection.hpp"

using namespace zpat::testing;
namespace zmtp = zpat::detail::zmtp;
using zpat::message;

namespace {

struct decoded {
    zmtp::decoder::status status;
    message msg;
    zmtp::command cmd;
    std::size_t consumed = 0;
};

decoded decode(std::string_view bytes, std::size_t max_size = 1 << 20, std::size_t frames = 64) {
    zmtp::decoder d(max_size, frames);
    decoded out{zmtp::decoder::status::error, {}, {}, 0};
    out.status = d.next(bytes, out.msg, out.cmd, out.consumed);
    return out;
}

}  // namespace

TEST_CASE("zmtp: a message's frames round-trip, short and long, in any pieces") {
    const message original{"", std::string(300, 'x'), "last"};
    std::string bytes;
    zmtp::encode(original, bytes);
    // A 0-byte short frame flagged MORE, a long one (300 bytes) flagged MORE, a short last one.
    REQUIRE(bytes.substr(0, 2) == std::string("\x01\x00", 2));
    REQUIRE(static_cast<unsigned char>(bytes[2]) == 0x03);
    REQUIRE(bytes.size() == 2 + 9 + 300 + 2 + 4);
    for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
        CAPTURE(cut);
        CHECK(decode(std::string_view(bytes).substr(0, cut)).status ==
              zmtp::decoder::status::need_more);
    }
    bytes += std::string("\x00\x01z", 3);  // the start of the next message stays where it is
    const decoded whole = decode(bytes);
    REQUIRE(whole.status == zmtp::decoder::status::message_ready);
    CHECK(whole.msg == original);
    CHECK(whole.consumed == bytes.size() - 3);
}

TEST_CASE("zmtp: a long frame header for a short frame is accepted, as the RFC asks") {
    const std::string bytes("\x02\x00\x00\x00\x00\x00\x00\x00\x02hi", 11);
    const decoded d = decode(bytes);
    REQUIRE(d.status == zmtp::decoder::status::message_ready);
    CHECK(d.msg == message{"hi"});
}

TEST_CASE("zmtp: limits are checked as each header arrives, before the frame does") {
    // An 8-byte size near 2^64: refused from the header alone.
    const std::string huge("\x02\xff\xff\xff\xff\xff\xff\xff\xf0", 9);
    const decoded big = decode(huge);
    CHECK(big.status == zmtp::decoder::status::error);
    // Over max-message-size across frames, within twice it: dropped whole, the next one taken.
    std::string two;
    zmtp::encode(message{std::string(600, 'a'), std::string(600, 'b')}, two);
    zmtp::encode(message{"next"}, two);
    zmtp::decoder sized(1000, 64);
    message msg;
    zmtp::command cmd;
    std::size_t consumed = 0;
    CHECK(sized.next(std::string_view(two).substr(0, 9 + 600 + 9), msg, cmd, consumed) ==
          zmtp::decoder::status::need_more);
    REQUIRE(sized.next(two, msg, cmd, consumed) == zmtp::decoder::status::message_dropped);
    CHECK(consumed == 2 * (9 + 600));
    REQUIRE(sized.next(std::string_view(two).substr(consumed), msg, cmd, consumed) ==
            zmtp::decoder::status::message_ready);
    CHECK(msg == message{"next"});
    // Past twice it (with room for the headers of twice the frames): an error, at the header.
    zmtp::decoder strict(100, 2);
    CHECK(strict.next(std::string_view(two).substr(0, 9), msg, cmd, consumed) ==
          zmtp::decoder::status::error);
    CHECK_THAT(strict.reason(), Catch::Contains("twice max-message-size"));
    // Too many frames: dropped, however small; far too many bytes of them: an error.
    std::string many;
    zmtp::encode(message{"1", "2", "3"}, many);
    CHECK(decode(many, 1000, 2).status == zmtp::decoder::status::message_dropped);
    std::string endless;
    for (int i = 0; i < 5000; ++i) {
        endless += std::string("\x01\x00", 2);  // empty frames, each flagged MORE
    }
    CHECK(decode(endless, 1000, 100).status == zmtp::decoder::status::error);
    // A command over its own limit, from the header alone.
    std::string command_header("\x06", 1);
    command_header += std::string("\x00\x00\x00\x00\x00\x02\x00\x00", 8);
    CHECK(decode(command_header).status == zmtp::decoder::status::error);
}

TEST_CASE("zmtp: a message arriving in pieces has each header read once") {
    // 200,000 empty frames, fed a byte at a time: checked as they come, not again per piece
    // (which would take billions of steps), and dropped over max_message_frames.
    std::string bytes;
    for (int i = 0; i < 200000; ++i) {
        bytes += std::string("\x01\x00", 2);
    }
    bytes += std::string("\x00\x00", 2);
    zmtp::decoder d(1 << 20, 1024);
    message msg;
    zmtp::command cmd;
    std::size_t consumed = 0;
    for (std::size_t n = 1; n < bytes.size(); ++n) {
        REQUIRE(d.next(std::string_view(bytes).substr(0, n), msg, cmd, consumed) ==
                zmtp::decoder::status::need_more);
    }
    CHECK(d.next(bytes, msg, cmd, consumed) == zmtp::decoder::status::message_dropped);
    CHECK(consumed == bytes.size());
}

// The frames of the encoded message at the front of `bytes`, read in place.
message frames_in_place(std::string_view bytes) {
    const auto m = zmtp::encoded_message::at(bytes);
    message out;
    std::size_t at = zmtp::encoded_message::first_frame_at;
    for (std::size_t i = 0; i < m.frames; ++i) {
        out.push_back(m.frame(at));
    }
    CHECK(at == m.bytes.size());
    CHECK(m.first_frame == out[0]);
    CHECK(m.payload == out.byte_size());
    return out;
}

TEST_CASE("zmtp: scan finds whole messages in place, and they read as next() decodes them") {
    const std::vector<message> sent{{"topic", "body"},
                                    {std::string(300, 'l')},
                                    {"", std::string(70000, 'x'), "end"},
                                    {"a", "b", "c", "d"}};
    std::string bytes;
    std::vector<std::size_t> ends;
    for (const message& m : sent) {
        zmtp::encode(m, bytes);
        ends.push_back(bytes.size());
    }
    // Every cut: the whole messages before it are found, each header read once across the
    // calls, and the rest waits for the next call.
    for (std::size_t cut = 0; cut <= bytes.size(); cut += 97) {
        CAPTURE(cut);
        zmtp::decoder d(1 << 20, 64);
        zmtp::decoder::scanned first;
        const auto status = d.scan(std::string_view(bytes).substr(0, cut), first);
        const auto whole =
            static_cast<std::size_t>(std::ranges::upper_bound(ends, cut) - ends.begin());
        REQUIRE(first.messages == whole);
        REQUIRE(first.bytes == (whole == 0 ? 0 : ends[whole - 1]));
        CHECK(status == (whole == 0 ? zmtp::decoder::status::need_more
                                    : zmtp::decoder::status::message_ready));
        zmtp::decoder::scanned rest;
        REQUIRE(d.scan(std::string_view(bytes).substr(first.bytes), rest) ==
                zmtp::decoder::status::message_ready);
        CHECK(first.messages + rest.messages == sent.size());
        CHECK(first.bytes + rest.bytes == bytes.size());
    }
    std::string_view left(bytes);
    for (const message& m : sent) {
        CHECK(frames_in_place(left) == m);
        left.remove_prefix(zmtp::encoded_message::at(left).bytes.size());
    }
    CHECK(left.empty());
}

TEST_CASE("zmtp: scan stops before a command, a message over the limits and bad framing") {
    std::string bytes;
    zmtp::encode(message{"one"}, bytes);
    const std::size_t one = bytes.size();
    bytes += zmtp::encode_command("PING", std::string("\x00\x00", 2));
    const std::size_t ping = bytes.size();
    zmtp::encode(message{std::string(600, 'o')}, bytes);  // over max_message_size below
    const std::size_t over = bytes.size();
    zmtp::encode(message{"two"}, bytes);
    const std::size_t two = bytes.size();
    bytes += std::string("\x08\x00", 2);  // reserved flags

    zmtp::decoder d(500, 8);
    zmtp::decoder::scanned found;
    message msg;
    zmtp::command cmd;
    std::size_t used = 0;
    std::string_view in(bytes);
    REQUIRE(d.scan(in, found) == zmtp::decoder::status::message_ready);
    CHECK(found.messages == 1);
    CHECK(found.bytes == one);
    in.remove_prefix(found.bytes);
    REQUIRE(d.scan(in, found) == zmtp::decoder::status::command_ready);
    CHECK(found.messages == 0);
    REQUIRE(d.next(in, msg, cmd, used) == zmtp::decoder::status::command_ready);
    CHECK(cmd.name == "PING");
    CHECK(used == ping - one);
    in.remove_prefix(used);
    REQUIRE(d.scan(in, found) == zmtp::decoder::status::message_dropped);
    REQUIRE(d.next(in, msg, cmd, used) == zmtp::decoder::status::message_dropped);
    CHECK(used == over - ping);
    in.remove_prefix(used);
    REQUIRE(d.scan(in, found) == zmtp::decoder::status::message_ready);
    CHECK(found.bytes == two - over);
    CHECK(frames_in_place(in) == message{"two"});
    in.remove_prefix(found.bytes);
    REQUIRE(d.scan(in, found) == zmtp::decoder::status::error);
    CHECK_THAT(d.reason(), Catch::Contains("reserved"));
}

TEST_CASE("zmtp: scan reads each header of a message arriving in pieces once") {
    // As next(): 200,000 empty frames after a whole message, a byte at a time, checked as they
    // come (a scan from the front each time would take billions of steps).
    std::string bytes;
    zmtp::encode(message{"before"}, bytes);
    const std::size_t before = bytes.size();
    for (int i = 0; i < 200000; ++i) {
        bytes += std::string("\x01\x00", 2);
    }
    bytes += std::string("\x00\x00", 2);
    zmtp::decoder d(1 << 20, 1024);
    zmtp::decoder::scanned found;
    std::size_t from = 0;
    for (std::size_t n = 1; n < bytes.size(); ++n) {
        const auto status = d.scan(std::string_view(bytes).substr(from, n - from), found);
        if (status == zmtp::decoder::status::message_ready) {
            REQUIRE(from + found.bytes == before);
            from += found.bytes;
        } else {
            REQUIRE(status == zmtp::decoder::status::need_more);
        }
    }
    CHECK(from == before);
    CHECK(d.scan(std::string_view(bytes).substr(from), found) ==
          zmtp::decoder::status::message_dropped);
}

TEST_CASE("zmtp: malformed frames are refused with what was wrong") {
    const auto reason_of = [](std::string_view bytes) {
        zmtp::decoder d(1 << 20, 64);
        message msg;
        zmtp::command cmd;
        std::size_t consumed = 0;
        REQUIRE(d.next(bytes, msg, cmd, consumed) == zmtp::decoder::status::error);
        return d.reason();
    };
    CHECK_THAT(reason_of(std::string("\x08\x00", 2)), Catch::Contains("reserved"));
    CHECK_THAT(reason_of(std::string("\x05\x02\x01x", 4)), Catch::Contains("multipart"));
    CHECK_THAT(reason_of(std::string("\x01\x00\x04\x02\x01x", 6)), Catch::Contains("multipart"));
    CHECK_THAT(reason_of(std::string("\x04\x01\x00", 3)), Catch::Contains("no name"));
    CHECK_THAT(reason_of(std::string("\x04\x02\x05x", 4)), Catch::Contains("no name"));
    CHECK_THAT(reason_of(std::string("\x04\x00", 2)), Catch::Contains("no name"));
}

TEST_CASE("zmtp: commands and READY's properties round-trip and bad properties are refused") {
    const std::vector<zmtp::property> props{{"Socket-Type", "ROUTER"}, {"Identity", ""}};
    const std::string bytes = zmtp::encode_command("READY", zmtp::encode_properties(props));
    const decoded d = decode(bytes);
    REQUIRE(d.status == zmtp::decoder::status::command_ready);
    CHECK(d.consumed == bytes.size());
    CHECK(d.cmd.name == "READY");
    std::string reason;
    const auto parsed = zmtp::parse_properties(d.cmd.data, reason);
    CHECK(reason.empty());
    REQUIRE(parsed.size() == 2);
    CHECK(parsed[0].name == "Socket-Type");
    CHECK(parsed[0].value == "ROUTER");
    CHECK(parsed[1].name == "Identity");
    CHECK(parsed[1].value.empty());

    CHECK(zmtp::parse_properties(std::string("\x04Name\x00\x00\x00\x09short", 14), reason).empty());
    CHECK_THAT(reason, Catch::Contains("'Name'"));
    CHECK(zmtp::parse_properties(std::string("\x09Na", 3), reason).empty());
    CHECK_THAT(reason, Catch::Contains("longer than the command"));
    CHECK(zmtp::parse_properties(std::string("\x00", 1), reason).empty());
    CHECK_FALSE(reason.empty());
}

TEST_CASE("zmtp: greetings are checked as their bytes arrive") {
    const std::string ours = zmtp::greeting(true);
    REQUIRE(ours.size() == zmtp::greeting_size);
    for (std::size_t n = 0; n <= ours.size(); ++n) {
        CHECK(zmtp::check_greeting(std::string_view(ours).substr(0, n)).empty());
    }
    CHECK_THAT(zmtp::check_greeting("GET / HTTP/1.1\r\n"), Catch::Contains("first byte is 0x47"));
    std::string old = ours;
    old[9] = 0x7E;
    CHECK_THAT(zmtp::check_greeting(old.substr(0, 10)), Catch::Contains("ZMTP 1.0"));
    old = ours;
    old[10] = 2;
    CHECK_THAT(zmtp::check_greeting(old.substr(0, 11)), Catch::Contains("ZMTP 2.x"));
    std::string curve = ours;
    curve.replace(12, 5, "CURVE");
    CHECK_THAT(zmtp::check_greeting(curve), Catch::Contains("'CURVE'"));
    std::string padded = ours;
    padded[20] = 'x';  // "NULL" followed by something other than zeros
    CHECK_FALSE(zmtp::check_greeting(padded).empty());
}

namespace {

// A listening TCP socket on loopback, on a port the system picks.
struct listener {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    int port = 0;
    listener() {
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        REQUIRE(::listen(fd, 4) == 0);
        socklen_t len = sizeof addr;
        REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
        port = ntohs(addr.sin_port);
    }
    ~listener() { ::close(fd); }
    listener(const listener&) = delete;
    listener& operator=(const listener&) = delete;
};

bool readable(int fd, std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    return left.count() > 0 && ::poll(&p, 1, static_cast<int>(left.count())) == 1;
}

// Reads from `fd` into `buffer` until it holds `size` bytes; false at the deadline or EOF.
bool read_to(int fd, std::string& buffer, std::size_t size,
             std::chrono::steady_clock::time_point deadline) {
    while (buffer.size() < size) {
        if (!readable(fd, deadline)) {
            return false;
        }
        std::array<char, 4096> chunk{};
        const ssize_t got = ::recv(fd, chunk.data(), chunk.size(), 0);
        if (got <= 0) {
            return false;
        }
        buffer.append(chunk.data(), static_cast<std::size_t>(got));
    }
    return true;
}

// The next message or command from `fd`, as `d` decodes it.
zmtp::decoder::status read_next(int fd, std::string& buffer, zmtp::decoder& d, message& msg,
                                zmtp::command& cmd,
                                std::chrono::steady_clock::time_point deadline) {
    for (;;) {
        std::size_t consumed = 0;
        const auto status = d.next(buffer, msg, cmd, consumed);
        if (status != zmtp::decoder::status::need_more) {
            buffer.erase(0, consumed);
            return status;
        }
        if (!read_to(fd, buffer, buffer.size() + 1, deadline)) {
            return zmtp::decoder::status::need_more;
        }
    }
}

void send_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t sent = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        REQUIRE(sent > 0);
        bytes.remove_prefix(static_cast<std::size_t>(sent));
    }
}

}  // namespace

TEST_CASE("zmtp: a libzmq DEALER talks to zpat's ZMTP as to a ROUTER, both ways") {
    listener server;
    zmq::context_t context;
    zmq::socket_t dealer(context, zmq::socket_type::dealer);
    dealer.set(zmq::sockopt::routing_id, "client-7");
    dealer.set(zmq::sockopt::linger, 0);
    dealer.connect("tcp://127.0.0.1:" + std::to_string(server.port));
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    REQUIRE(readable(server.fd, deadline));
    const int peer = ::accept(server.fd, nullptr, nullptr);
    REQUIRE(peer >= 0);

    send_all(peer, zmtp::greeting(true));
    std::string in;
    REQUIRE(read_to(peer, in, zmtp::greeting_size, deadline));
    REQUIRE(zmtp::check_greeting(std::string_view(in).substr(0, zmtp::greeting_size)).empty());
    in.erase(0, zmtp::greeting_size);

    zmtp::decoder d(1 << 20, 64);
    message msg;
    zmtp::command cmd;
    REQUIRE(read_next(peer, in, d, msg, cmd, deadline) == zmtp::decoder::status::command_ready);
    REQUIRE(cmd.name == "READY");
    std::string reason;
    const auto props = zmtp::parse_properties(cmd.data, reason);
    REQUIRE(reason.empty());
    std::map<std::string, std::string> seen;
    for (const auto& p : props) {
        seen[p.name] = p.value;
    }
    CHECK(seen["Socket-Type"] == "DEALER");
    CHECK(seen["Identity"] == "client-7");
    const std::vector<zmtp::property> ours{{"Socket-Type", "ROUTER"}};
    send_all(peer, zmtp::encode_command("READY", zmtp::encode_properties(ours)));

    // The DEALER's message arrives as it sent it; a reply longer than a short frame goes back.
    REQUIRE(dealer.send(zmq::str_buffer(""), zmq::send_flags::sndmore));
    REQUIRE(dealer.send(zmq::buffer(std::string(1000, 'q')), zmq::send_flags::none));
    REQUIRE(read_next(peer, in, d, msg, cmd, deadline) == zmtp::decoder::status::message_ready);
    CHECK(msg == message{"", std::string(1000, 'q')});
    std::string out;
    zmtp::encode(message{"", "reply", std::string(70000, 'r')}, out);
    send_all(peer, out);
    dealer.set(zmq::sockopt::rcvtimeo, 5000);
    std::vector<std::string> got;
    for (bool more = true; more;) {
        zmq::message_t frame;
        REQUIRE(dealer.recv(frame));
        got.push_back(frame.to_string());
        more = frame.more();
    }
    CHECK(got == std::vector<std::string>{"", "reply", std::string(70000, 'r')});
    ::close(peer);
}

namespace {

constexpr std::array<std::string_view, 3> router_peers{"DEALER", "REQ", "ROUTER"};
constexpr std::array<std::string_view, 1> dealer_peers{"ROUTER"};

zmtp::connection router_side() {
    return zmtp::connection({"ROUTER", router_peers, 1 << 20, 64});
}

// A peer's opening bytes: greeting, READY with these properties.
std::string opening(const std::vector<zmtp::property>& props) {
    return zmtp::greeting(false) + zmtp::encode_command("READY", zmtp::encode_properties(props));
}

}  // namespace

TEST_CASE("zmtp connection: two of them greet, agree and carry messages both ways") {
    auto router = router_side();
    zmtp::connection dealer({"DEALER", dealer_peers, 1 << 20, 64});
    std::vector<message> at_router;
    std::vector<message> at_dealer;
    dealer.send(message{"", "early"});  // queued behind the greeting and READY, as libzmq does
    // Byte by byte one way, all at once the other.
    const std::string to_router = std::exchange(dealer.outgoing(), {});
    for (const char c : to_router) {
        REQUIRE(router.take(std::string_view(&c, 1), [&](message& m) { at_router.push_back(m); }));
    }
    REQUIRE(dealer.take(std::exchange(router.outgoing(), {}),
                        [&](message& m) { at_dealer.push_back(m); }));
    CHECK(router.ready());
    CHECK(dealer.ready());
    CHECK(router.peer_socket_type() == "DEALER");
    CHECK(dealer.peer_socket_type() == "ROUTER");
    CHECK(at_router == std::vector<message>{{"", "early"}});
    router.send(message{"", "late", std::string(1000, 'x')});
    REQUIRE(dealer.take(std::exchange(router.outgoing(), {}),
                        [&](message& m) { at_dealer.push_back(m); }));
    CHECK(at_dealer == std::vector<message>{{"", "late", std::string(1000, 'x')}});
}

TEST_CASE("zmtp connection: PINGs are answered, however many one read holds, within bounds") {
    auto router = router_side();
    std::string in = opening({{"Socket-Type", "DEALER"}});
    for (int i = 0; i < 5000; ++i) {
        in += zmtp::encode_command("PING", std::string("\x00\x0a", 2) + "ctx");
    }
    const auto before = router.outgoing().size();
    REQUIRE(router.take(in, [](message&) { FAIL("no message was sent"); }));
    CHECK(router.pings_answered() == 5000);
    const std::string pong = zmtp::encode_command("PONG", "ctx");
    CHECK(router.outgoing().size() - before == 5000 * pong.size());
    CHECK(router.outgoing().ends_with(pong));

    // A peer that sends PINGs and reads nothing: PONGs stop at 64 KiB unwritten, and a
    // context longer than RFC 37's 16 bytes comes back cut to them.
    std::string flood;
    for (int i = 0; i < 100000; ++i) {
        flood += zmtp::encode_command("PING", std::string("\x00\x0a", 2) + std::string(40, 'c'));
    }
    REQUIRE(router.take(flood, [](message&) { FAIL("no message was sent"); }));
    const std::string cut = zmtp::encode_command("PONG", std::string(16, 'c'));
    CHECK(router.outgoing().size() < 64 * 1024 + cut.size());
    CHECK(router.outgoing().ends_with(cut));
    CHECK(router.pings_answered() < 5000 + 100000);
    // Once it reads, it is answered again.
    router.outgoing().clear();
    const auto answered = router.pings_answered();
    REQUIRE(router.take(zmtp::encode_command("PING", std::string("\x00\x0a", 2)),
                        [](message&) { FAIL("no message was sent"); }));
    CHECK(router.pings_answered() == answered + 1);
}

TEST_CASE("zmtp connection: what the protocol does not allow closes it, named") {
    const auto refused = [](const std::string& bytes, bool told) {
        auto router = router_side();
        router.outgoing().clear();
        CHECK_FALSE(router.take(bytes, [](message&) {}));
        CHECK(router.closed());
        CHECK_FALSE(router.take("more", [](message&) {}));
        // The peer hears an ERROR once it has spoken ZMTP; before that, only the close.
        const decoded sent = decode(router.outgoing());
        CHECK((sent.status == zmtp::decoder::status::command_ready && sent.cmd.name == "ERROR") ==
              told);
        return router.reason();
    };
    std::string two = zmtp::greeting(false);
    two[10] = 2;
    CHECK_THAT(refused(two.substr(0, 11), false), Catch::Contains("ZMTP 2.x"));
    CHECK_THAT(refused("GET / HTTP/1.1\r\n", false), Catch::Contains("0x47"));
    CHECK_THAT(refused(opening({{"Socket-Type", "PUB"}}), true),
               Catch::Contains("PUB peer, which cannot talk to a ROUTER"));
    CHECK_THAT(refused(opening({{"Identity", "x"}}), true),
               Catch::Contains("without a Socket-Type"));
    CHECK_THAT(
        refused(opening({{"Socket-Type", "DEALER"}, {"Identity", std::string("\0x", 2)}}), true),
        Catch::Contains("zero byte"));
    std::string early = zmtp::greeting(false);
    zmtp::encode(message{"too soon"}, early);
    CHECK_THAT(refused(early, true), Catch::Contains("before the peer's READY"));
    CHECK_THAT(refused(zmtp::greeting(false) + zmtp::encode_command("PING", "xx"), true),
               Catch::Contains("PING where READY was due"));
    const std::string ready = opening({{"Socket-Type", "DEALER"}});
    CHECK_THAT(refused(ready + zmtp::encode_command("READY", ""), true),
               Catch::Contains("second READY"));
    CHECK_THAT(refused(ready + zmtp::encode_command("SUBSCRIBE", "a"), true),
               Catch::Contains("SUBSCRIBE, which a ROUTER does not take"));
    CHECK_THAT(refused(ready + zmtp::encode_command("PING", "x"), true),
               Catch::Contains("time-to-live"));
    CHECK_THAT(refused(ready + zmtp::encode_command("ERROR", zmtp::error_data("bye")), true),
               Catch::Contains("the peer sent ERROR: bye"));
    CHECK_THAT(refused(ready + zmtp::encode_command("ERROR", ""), true),
               Catch::Contains("the peer sent ERROR: "));
    CHECK_THAT(refused(ready + std::string("\x02\xff\xff\xff\xff\xff\xff\xff\xff", 9), true),
               Catch::Contains("max-message-size"));
    CHECK_THAT(refused(zmtp::greeting(false) + std::string("\x00\x01x", 3), true),
               Catch::Contains("before the peer's READY"));
}

TEST_CASE("zmtp connection: a libzmq DEALER with heartbeats on stays connected and heard") {
    listener server;
    zmq::context_t context;
    zmq::socket_t dealer(context, zmq::socket_type::dealer);
    dealer.set(zmq::sockopt::linger, 0);
    dealer.set(zmq::sockopt::heartbeat_ivl, 10);
    dealer.set(zmq::sockopt::heartbeat_timeout, 100);
    dealer.set(zmq::sockopt::rcvtimeo, 5000);
    dealer.connect("tcp://127.0.0.1:" + std::to_string(server.port));
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    REQUIRE(readable(server.fd, deadline));
    const int peer = ::accept(server.fd, nullptr, nullptr);
    REQUIRE(peer >= 0);
    auto router = router_side();
    std::vector<message> got;
    // Drives the connection until `enough`: writes what it queued, reads what came.
    const auto drive_until = [&](auto enough) {
        while (!enough()) {
            REQUIRE(std::chrono::steady_clock::now() < deadline);
            send_all(peer, std::exchange(router.outgoing(), {}));
            std::string in;
            if (readable(peer, std::chrono::steady_clock::now() + 5ms)) {
                REQUIRE(read_to(peer, in, 1, deadline));
                REQUIRE(router.take(in, [&](message& m) { got.push_back(m); }));
            }
        }
    };
    drive_until([&] { return router.pings_answered() >= 10; });
    CHECK(router.peer_socket_type() == "DEALER");
    REQUIRE(dealer.send(zmq::str_buffer("after ten PINGs"), zmq::send_flags::none));
    drive_until([&] { return !got.empty(); });
    CHECK(got.front() == message{"after ten PINGs"});
    router.send(message{"answered"});
    send_all(peer, std::exchange(router.outgoing(), {}));
    zmq::message_t reply;
    REQUIRE(dealer.recv(reply));
    CHECK(reply.to_string() == "answered");
    ::close(peer);
}
