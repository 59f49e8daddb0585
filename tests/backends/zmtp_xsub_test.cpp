// zpat's own ZMTP XSUB (raw/zmtp_xsub.hpp, an xsubscriber with io_model::caller) with libzmq
// PUB and XPUB peers and a hand-written one, and a relay from it to zpat's own XPUB that passes
// messages through encoded: a forwarder in miniature between libzmq programs.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "support/test_support.hpp"
#include "support/zmq_frames.hpp"
#include "support/zmtp_peers.hpp"
#include "zmtp.hpp"
#include "zmtp_xsub.hpp"
#include "zpat/pubsub.hpp"
#include "zpat/relay.hpp"

using namespace zpat::testing;
using zpat::message;
namespace zmtp = zpat::detail::zmtp;

namespace {

// Sends `msg` from `pub` every 20 ms until `xsub` receives a message (a PUB drops what it
// sends before its subscriber's subscriptions have reached it); returns that one.
message first_heard(zmq::socket_t& pub, const message& msg, zpat::xsubscriber& xsub) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    message got;
    while (std::chrono::steady_clock::now() < deadline) {
        for (std::size_t i = 0; i < msg.size(); ++i) {
            pub.send(zmq::buffer(msg[i]),
                     i + 1 < msg.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
        }
        if (xsub.receive(got, 20ms)) {
            return got;
        }
    }
    return {};
}

// The next message `peer` receives, while `xsub` is driven (its I/O happens in its calls).
std::vector<std::string> frames_driving(zmq::socket_t& peer, zpat::xsubscriber& xsub) {
    peer.set(zmq::sockopt::rcvtimeo, 10);
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    message ignored;
    while (std::chrono::steady_clock::now() < deadline) {
        if (auto frames = frames_of(peer); !frames.empty()) {
            return frames;
        }
        static_cast<void>(xsub.receive(ignored, 0ms));
    }
    return {};
}

void put(int fd, std::string_view bytes) {
    REQUIRE(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(bytes.size()));
}

}  // namespace

TEST_CASE("zmtp xsub: PUB and XPUB publishers are heard, and take its subscriptions") {
    zpat::xsubscriber xsub("@tcp://127.0.0.1:*", caller());
    const std::string at = xsub.endpoints()[0];
    xsub.subscribe("a");  // before any publisher: each one that comes is told
    zmq::context_t context;
    auto pub = connected_socket(context, zmq::socket_type::pub, at);
    CHECK(first_heard(pub, message{"a1", "hello"}, xsub) == message{"a1", "hello"});
    // The PUB filters for it: what it did not subscribe to never comes.
    pub.send(zmq::str_buffer("b1"));
    pub.send(zmq::str_buffer("a2"));
    message got;
    REQUIRE(xsub.receive(got, 5s));
    CHECK(got == message{"a2"});

    auto xpub = connected_socket(context, zmq::socket_type::xpub, at);
    CHECK(frames_driving(xpub, xsub) == std::vector<std::string>{"\x01"
                                                                 "a"});
    xsub.subscribe("c");
    CHECK(frames_driving(xpub, xsub) == std::vector<std::string>{"\x01"
                                                                 "c"});
    xsub.unsubscribe("nothing held");  // goes nowhere
    xsub.unsubscribe("c");
    CHECK(frames_driving(xpub, xsub) == std::vector<std::string>{std::string("\x00"
                                                                             "c",
                                                                             2)});
    REQUIRE(xsub.send(message{"anything else", "as it is"}));
    CHECK(frames_driving(xpub, xsub) == std::vector<std::string>{"anything else", "as it is"});
    xpub.send(zmq::str_buffer("b2"));  // an XPUB filters too
    xpub.send(zmq::str_buffer("a3"), zmq::send_flags::sndmore);
    xpub.send(zmq::str_buffer("from xpub"));
    REQUIRE(xsub.receive(got, 5s));
    CHECK(got == message{"a3", "from xpub"});
}

TEST_CASE("zmtp xsub: what a read brings waits whole and encoded, past commands and drops") {
    zpat::options opts;
    opts.max_message_size = 1000;
    zpat::detail::zmtp_xsubscriber xsub(
        zpat::parse_endpoints("tcp://127.0.0.1:*", zpat::link::bind), opts);
    const int fd = loopback_connect(xsub.endpoints()[0]);
    const std::array<zmtp::property, 1> pub{{{"Socket-Type", "PUB"}}};
    std::string bytes =
        zmtp::greeting(false) + zmtp::encode_command("READY", zmtp::encode_properties(pub));
    zmtp::encode(message{"one", "1"}, bytes);
    zmtp::encode(message{"two", std::string(300, '2')}, bytes);
    const std::string first_two = bytes.substr(bytes.find('\x01' + std::string("\x03one")));
    bytes += zmtp::encode_command("PING", std::string("\x00\x00", 2));
    zmtp::encode(message{"big", std::string(2000, 'b')}, bytes);  // dropped: over the limit
    zmtp::encode(message{"three"}, bytes);
    put(fd, bytes);

    std::vector<message> got;
    std::string whole_first;
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (got.size() < 3 && std::chrono::steady_clock::now() < deadline) {
        const std::string_view whole = xsub.next_encoded();
        if (whole_first.empty()) {
            whole_first = whole;
        }
        std::string_view rest = whole;
        while (!rest.empty()) {
            const auto m = zmtp::encoded_message::at(rest);
            message msg;
            std::size_t at = zmtp::encoded_message::first_frame_at;
            for (std::size_t i = 0; i < m.frames; ++i) {
                msg.push_back(m.frame(at));
            }
            got.push_back(msg);
            rest.remove_prefix(m.bytes.size());
        }
        xsub.took_encoded(whole.size());
    }
    // The first batch is the two messages before the PING, as they came on the wire.
    CHECK(whole_first == first_two.substr(0, whole_first.size()));
    CHECK(whole_first.size() == 2 + 3 + 2 + 1 + 2 + 3 + 9 + 300);
    CHECK(got == std::vector<message>{{"one", "1"}, {"two", std::string(300, '2')}, {"three"}});
    CHECK(xsub.oversized_dropped() == 1);
    // The PING was answered.
    std::string back(4096, '\0');
    pollfd p{fd, POLLIN, 0};
    REQUIRE(::poll(&p, 1, 5000) == 1);
    back.resize(static_cast<std::size_t>(::recv(fd, back.data(), back.size(), 0)));
    CHECK(back.find("\x04PONG") != std::string::npos);
    // Bad framing closes the connection, counted.
    put(fd, std::string("\x08\x00", 2));
    CHECK(eventually([&] {
        static_cast<void>(xsub.next_encoded());
        return xsub.connections().malformed == 1;
    }));
    ::close(fd);
}

TEST_CASE("zmtp xsub: a publisher that does not read holds no more than its high-water mark") {
    zpat::xsubscriber xsub("@tcp://127.0.0.1:*", caller({.send_high_water_mark = 10}));
    const int fd = loopback_connect(xsub.endpoints()[0]);
    const std::array<zmtp::property, 1> pub{{{"Socket-Type", "PUB"}}};
    put(fd, zmtp::greeting(false) + zmtp::encode_command("READY", zmtp::encode_properties(pub)));
    // 50,000 messages of 1 KiB (50 MB) while it reads nothing: what the kernel's buffers do not
    // take waits for it, up to the mark, and the rest is dropped.
    const std::string body(1024, 'm');
    message ignored;
    REQUIRE(eventually([&] {
        static_cast<void>(xsub.receive(ignored, 0ms));
        return xsub.open_connections().size() == 1 && !xsub.open_connections()[0].peer_role.empty();
    }));
    constexpr int sent = 50000;
    for (int i = 0; i < sent; ++i) {
        REQUIRE(xsub.send(message{"upstream", body}));
    }
    // Now it reads: a part arrives, far from all.
    std::size_t bytes = 0;
    std::array<char, 65536> sink{};
    for (;;) {
        static_cast<void>(xsub.receive(ignored, 0ms));  // writes what waits
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 300) != 1) {
            break;
        }
        const ssize_t got = ::recv(fd, sink.data(), sink.size(), 0);
        if (got <= 0) {
            break;
        }
        bytes += static_cast<std::size_t>(got);
    }
    CHECK(bytes > 10 * body.size());
    CHECK(bytes < sent * body.size() / 4);
    // Each message lost is counted: what arrived is every message not counted, after the
    // handshake.
    std::string one;
    zmtp::encode(message{"upstream", body}, one);
    const std::uint64_t lost = xsub.dropped();
    REQUIRE(lost < static_cast<std::uint64_t>(sent));
    const std::size_t kept = (sent - lost) * one.size();
    CHECK(bytes >= kept);
    CHECK(bytes < kept + 1024);  // the greeting and READY
    ::close(fd);
}

TEST_CASE("zmtp xsub to zmtp xpub: a relay passes messages through between libzmq programs") {
    zpat::xsubscriber front("@tcp://127.0.0.1:*", caller());
    zpat::xpublisher back("@tcp://127.0.0.1:*",
                          caller({.send_timeout = 100ms, .block_when_full = true}));
    zpat::relay link(front, back);
    zmq::context_t context;
    zmq::socket_t sub(context, zmq::socket_type::sub);
    sub.set(zmq::sockopt::linger, 0);
    sub.set(zmq::sockopt::rcvtimeo, 0);
    sub.set(zmq::sockopt::rcvhwm, 0);
    sub.set(zmq::sockopt::subscribe, "t");
    sub.connect(back.endpoints()[0]);
    zmq::socket_t pub(context, zmq::socket_type::pub);
    pub.set(zmq::sockopt::linger, 0);
    pub.set(zmq::sockopt::sndhwm, 0);  // a PUB drops at its high-water mark: here it must not
    pub.connect(front.endpoints()[0]);
    // The subscription goes up through the relay's owner, as a forwarder passes it.
    message subscription;
    REQUIRE(back.receive_subscription(subscription, 5s));
    CHECK(subscription == message{"\x01"
                                  "t"});
    REQUIRE(front.send(subscription));

    // Until a first message is through, the PUB may not have the subscription yet: probes go
    // first, and the count starts once one has come.
    constexpr int total = 2000;  // seconds under ThreadSanitizer, waiting on a slow SUB
    const std::string large(70000, 'L');
    int published = 0;
    int received = 0;
    bool heard = false;
    std::size_t topics_seen = 0;
    const zpat::frame_watch watch = [&](std::size_t index, std::string_view, bool) {
        topics_seen += index == 0 ? 1 : 0;
    };
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (received < total && std::chrono::steady_clock::now() < deadline) {
        if (!heard || published < total) {
            const std::string n = heard ? std::to_string(published++) : "probe";
            const bool is_large = heard && (published - 1) % 100 == 0;
            pub.send(zmq::str_buffer("t"), zmq::send_flags::sndmore);
            pub.send(zmq::buffer(n), zmq::send_flags::sndmore);
            pub.send(zmq::buffer(is_large ? large : n));
            pub.send(zmq::str_buffer("unwanted"));  // the PUB filters this out upstream
        }
        link.step(watch, zpat::watched_frames::first);
        message none;
        back.receive_subscription(none, 0ms);  // writes what the subscriber did not take
        for (auto frames = frames_of(sub); !frames.empty(); frames = frames_of(sub)) {
            REQUIRE(frames.size() == 3);
            heard = true;
            if (frames[1] == "probe") {
                continue;
            }
            REQUIRE(frames[1] == std::to_string(received));  // in order, none lost or repeated
            CHECK(frames[2] == (received % 100 == 0 ? large : frames[1]));
            ++received;
        }
    }
    CHECK(received == total);
    CHECK(topics_seen >= static_cast<std::size_t>(total));
}

TEST_CASE(
    "zmtp xsub to zmtp xpub: a rare topic is written at the end of a round of reads, "
    "while a flood of other topics goes on") {
    zpat::xsubscriber front("@tcp://127.0.0.1:*", caller());
    zpat::xpublisher back("@tcp://127.0.0.1:*", caller());
    zpat::relay link(front, back);
    zmq::context_t context;
    zmq::socket_t sub = connected_socket(context, zmq::socket_type::sub, back.endpoints()[0]);
    sub.set(zmq::sockopt::subscribe, "rare");
    message subscription;
    REQUIRE(back.receive_subscription(subscription, 5s));

    // A publisher written by hand writes small messages of a topic nobody takes faster than the
    // relay can match them, so that its source always has more read, with one of the rare topic
    // after the first 256 KiB. It floods until the rare one has arrived, for 10 s at most.
    const int fd = loopback_connect(front.endpoints()[0]);
    const timeval write_timeout{0, 100000};
    REQUIRE(::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &write_timeout, sizeof write_timeout) == 0);
    const std::array<zmtp::property, 1> pub{{{"Socket-Type", "PUB"}}};
    std::string flood;
    while (flood.size() < 256 * 1024) {
        zmtp::encode(message{"f"}, flood);
    }
    std::string first =
        zmtp::greeting(false) + zmtp::encode_command("READY", zmtp::encode_properties(pub));
    first += flood;
    zmtp::encode(message{"rare", "one"}, first);
    first += flood;
    std::atomic<bool> heard{false};
    std::atomic<bool> flooding{true};
    std::thread publisher([&] {
        const auto until = std::chrono::steady_clock::now() + 10s;
        std::string_view rest = first;
        while (!heard && std::chrono::steady_clock::now() < until) {
            const ssize_t sent = ::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
            if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                break;
            }
            rest.remove_prefix(sent > 0 ? static_cast<std::size_t>(sent) : 0);
            if (rest.empty()) {
                rest = flood;
            }
        }
        flooding = false;
    });

    sub.set(zmq::sockopt::rcvtimeo, 0);
    bool heard_while_flooding = false;
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!heard && std::chrono::steady_clock::now() < deadline) {
        link.step();
        if (const auto frames = frames_of(sub); !frames.empty()) {
            CHECK(frames == std::vector<std::string>{"rare", "one"});
            heard_while_flooding = flooding;
            heard = true;
        }
    }
    publisher.join();
    ::close(fd);
    CHECK(heard);
    CHECK(heard_while_flooding);
}
