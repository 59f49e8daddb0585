// zpat's own ZMTP XPUB (raw/zmtp_xpub.hpp, an xpublisher with io_model::caller) with libzmq
// SUB and XSUB peers, and a hand-written ZMTP 3.0 one: subscriptions in both forms, what each
// subscriber gets, what a subscriber leaving gives back, limits, and room.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <functional>
#include <set>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "support/test_support.hpp"
#include "support/zmq_frames.hpp"
#include "support/zmtp_peers.hpp"
#include "zmtp.hpp"
#include "zmtp_xpub.hpp"
#include "zpat/core/error.hpp"
#include "zpat/poller.hpp"
#include "zpat/pubsub.hpp"

using namespace zpat::testing;
using zpat::message;
namespace zmtp = zpat::detail::zmtp;

namespace {

// The next `count` subscription messages, as a set: peers' orders are their own.
std::multiset<std::string> subscriptions(zpat::xpublisher& x, std::size_t count) {
    std::multiset<std::string> got;
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    message sub;
    while (got.size() < count && std::chrono::steady_clock::now() < deadline) {
        if (x.receive_subscription(sub, 50ms)) {
            REQUIRE(sub.size() == 1);
            got.insert(sub[0]);
        }
    }
    return got;
}

// A ZMTP 3.0 SUB written by hand, as a program with only a socket library would: its
// subscriptions are messages, 0x01 or 0x00 and the prefix.
class zmtp30_subscriber {
  public:
    explicit zmtp30_subscriber(const std::string& endpoint) : fd_(loopback_connect(endpoint)) {
        std::string hello = zmtp::greeting(false);
        hello[11] = 0;  // version 3.0
        const std::array<zmtp::property, 1> sub{{{"Socket-Type", "SUB"}}};
        hello += zmtp::encode_command("READY", zmtp::encode_properties(sub));
        put(hello);
    }
    ~zmtp30_subscriber() { ::close(fd_); }
    zmtp30_subscriber(const zmtp30_subscriber&) = delete;
    zmtp30_subscriber& operator=(const zmtp30_subscriber&) = delete;

    void send(const message& msg) {
        std::string bytes;
        zmtp::encode(msg, bytes);
        put(bytes);
    }
    void put(std::string_view bytes) {
        REQUIRE(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
                static_cast<ssize_t>(bytes.size()));
    }
    // True once the publisher has closed the connection, within 5 s, while `drive` drives it.
    bool closed(const std::function<void()>& drive) {
        const auto deadline = std::chrono::steady_clock::now() + 5s;
        std::array<char, 4096> sink{};
        while (std::chrono::steady_clock::now() < deadline) {
            drive();
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 0) == 1 && ::recv(fd_, sink.data(), sink.size(), 0) <= 0) {
                return true;
            }
        }
        return false;
    }

  private:
    int fd_;
};

}  // namespace

TEST_CASE("zmtp xpub: SUB, XSUB and ZMTP 3.0 subscribers get their topics, and say so") {
    zpat::xpublisher x("@tcp://127.0.0.1:*", caller());
    const std::string at = x.endpoints()[0];
    zmq::context_t context;
    auto sub = connected_socket(context, zmq::socket_type::sub, at);
    sub.set(zmq::sockopt::subscribe, "a");
    auto xsub = connected_socket(context, zmq::socket_type::xsub, at);
    xsub.send(
        zmq::str_buffer("\x01"
                        "b"));
    zmtp30_subscriber old(at);
    old.send(
        message{"\x01"
                "c"});
    old.send(
        message{"\x01"
                "c"});  // counted: two unsubscribes undo it
    CHECK(subscriptions(x, 4) == std::multiset<std::string>{"\x01"
                                                            "a",
                                                            "\x01"
                                                            "b",
                                                            "\x01"
                                                            "c",
                                                            "\x01"
                                                            "c"});

    REQUIRE(x.send(message{"a1", "for sub"}));
    REQUIRE(x.send(message{"b1", "for xsub"}));
    REQUIRE(x.send(message{"z1", "for nobody"}));
    REQUIRE(x.send(message{"a2", "for sub again"}));
    CHECK(frames_of(sub) == std::vector<std::string>{"a1", "for sub"});
    CHECK(frames_of(sub) == std::vector<std::string>{"a2", "for sub again"});
    CHECK(frames_of(xsub) == std::vector<std::string>{"b1", "for xsub"});

    // Anything else an XSUB sends reaches the user as it is; an unsubscribe from a prefix not
    // held does not.
    xsub.send(
        zmq::str_buffer("\x00"
                        "nothing held"));
    xsub.send(zmq::str_buffer("hello upstream"));
    CHECK(subscriptions(x, 1) == std::multiset<std::string>{"hello upstream"});

    // An unsubscribe is handed over; a subscriber that goes gives back what it still held.
    sub.set(zmq::sockopt::unsubscribe, "a");
    CHECK(subscriptions(x, 1) == std::multiset<std::string>{std::string("\x00"
                                                                        "a",
                                                                        2)});
    xsub.close();
    CHECK(subscriptions(x, 1) == std::multiset<std::string>{std::string("\x00"
                                                                        "b",
                                                                        2)});
    old.send(
        message{std::string("\x00"
                            "c",
                            2)});
    CHECK(subscriptions(x, 1) == std::multiset<std::string>{std::string("\x00"
                                                                        "c",
                                                                        2)});
    REQUIRE(x.send(message{"a3", "for nobody now"}));
    sub.set(zmq::sockopt::rcvtimeo, 200);
    zmq::message_t none;
    CHECK_FALSE(sub.recv(none));
}

TEST_CASE("zmtp xpub: a poller hears of subscriptions through its handle") {
    zpat::xpublisher x("@tcp://127.0.0.1:*", caller());
    zmq::context_t context;
    auto sub = connected_socket(context, zmq::socket_type::sub, x.endpoints()[0]);
    zpat::poller poller;
    bool ready = false;
    poller.add(x, [&] { ready = true; });
    sub.set(zmq::sockopt::subscribe, "t");
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!ready && std::chrono::steady_clock::now() < deadline) {
        poller.run_once(100ms);
    }
    REQUIRE(ready);
    message got;
    REQUIRE(x.receive_subscription(got, 0ms));
    CHECK(got == message{"\x01"
                         "t"});
}

TEST_CASE("zmtp xpub: a full subscriber loses messages, counted, or the send waits for it") {
    const bool lossless = GENERATE(false, true);
    CAPTURE(lossless);
    zpat::options opts = caller({.send_high_water_mark = 4, .send_timeout = 50ms});
    opts.block_when_full = lossless;
    zpat::xpublisher x("@tcp://127.0.0.1:*", opts);
    zmq::context_t context;
    auto sub = connected_socket(context, zmq::socket_type::sub, x.endpoints()[0]);
    sub.set(zmq::sockopt::rcvhwm, 1);
    sub.set(zmq::sockopt::subscribe, "");
    REQUIRE(subscriptions(x, 1).size() == 1);
    // 200 messages of 256 KiB: far more than the sockets' buffers hold while nobody reads.
    const std::string body(256 * 1024, 'x');
    constexpr int total = 200;
    int sent = 0;
    int refused = 0;
    for (int i = 0; i < total; ++i) {
        if (x.send(message{"t", std::to_string(i), body})) {
            ++sent;
        } else {
            ++refused;
        }
    }
    if (lossless) {
        CHECK(x.dropped() == 0);
        CHECK(refused > 0);  // it waited, up to the send timeout, and said so
    } else {
        CHECK(refused == 0);
        CHECK(x.dropped() > 0);
    }
    // What was not dropped arrives whole and in order, as the sends are driven on.
    const std::size_t expected = static_cast<std::size_t>(sent) - x.dropped();
    std::size_t received = 0;
    int last = -1;
    sub.set(zmq::sockopt::rcvtimeo, 0);
    message none;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (received < expected && std::chrono::steady_clock::now() < deadline) {
        x.receive_subscription(none, 1ms);  // the caller's calls do the writing
        zmq::message_t frame;
        while (sub.recv(frame, zmq::recv_flags::dontwait)) {
            REQUIRE(frame.to_string() == "t");
            REQUIRE(sub.recv(frame));
            const int n = std::stoi(frame.to_string());
            CHECK(n > last);
            last = n;
            REQUIRE(sub.recv(frame));
            CHECK(frame.size() == body.size());
            ++received;
        }
    }
    CHECK(received == expected);
}

TEST_CASE("zmtp xpub: subscribers past the subscription limits are cut off, others go on") {
    zpat::xpublisher x("@tcp://127.0.0.1:*",
                       caller({.max_subscriptions = 2, .max_subscription_prefix = 8}));
    const std::string at = x.endpoints()[0];
    zmtp30_subscriber many(at);
    many.send(
        message{"\x01"
                "one"});
    many.send(
        message{"\x01"
                "two"});
    many.send(
        message{"\x01"
                "three"});
    // The two it may hold are handed over, and given back as it goes.
    CHECK(subscriptions(x, 4) == std::multiset<std::string>{"\x01"
                                                            "one",
                                                            "\x01"
                                                            "two",
                                                            std::string("\x00"
                                                                        "one",
                                                                        4),
                                                            std::string("\x00"
                                                                        "two",
                                                                        4)});
    message none;
    const auto drive = [&] { CHECK_FALSE(x.receive_subscription(none, 10ms)); };
    CHECK(many.closed(drive));
    zmtp30_subscriber long_prefix(at);
    long_prefix.send(
        message{"\x01"
                "much too long a prefix"});
    CHECK(long_prefix.closed(drive));
    CHECK(x.connections().over_limits == 2);
    zmq::context_t context;
    auto sub = connected_socket(context, zmq::socket_type::sub, at);
    sub.set(zmq::sockopt::subscribe, "ok");
    REQUIRE(subscriptions(x, 1).size() == 1);
    REQUIRE(x.send(message{"ok", "still served"}));
    CHECK(frames_of(sub) == std::vector<std::string>{"ok", "still served"});
}

TEST_CASE(
    "zmtp xpub: encoded messages pass through to their subscribers as they are, when flushed") {
    zpat::options opts;
    opts.max_message_size = 1000;
    zpat::detail::zmtp_xpublisher x(zpat::parse_endpoints("tcp://127.0.0.1:*", zpat::link::bind),
                                    opts);
    zmq::context_t context;
    auto sub = connected_socket(context, zmq::socket_type::sub, x.endpoints()[0]);
    sub.set(zmq::sockopt::subscribe, "k");
    message seen;
    REQUIRE(x.receive_subscription(seen, 5s));
    std::string batch;
    zmtp::encode(message{"k1", "first"}, batch);
    zmtp::encode(message{"other", "not wanted"}, batch);
    zmtp::encode(message{"k2", std::string(300, 'l')}, batch);  // a long frame
    const std::size_t whole = batch.size();
    zmtp::encode(message{"k3", std::string(2000, 'o')}, batch);  // over max_message_size
    const auto sent = x.send_encoded(batch, false, opts);
    CHECK(sent.messages == 3);
    CHECK(sent.bytes == whole);
    CHECK(sent.refused);
    // Kept back, to go out with what comes next, until flushed.
    sub.set(zmq::sockopt::rcvtimeo, 100);
    CHECK(frames_of(sub).empty());
    x.flush_queued();
    sub.set(zmq::sockopt::rcvtimeo, 5000);
    CHECK(frames_of(sub) == std::vector<std::string>{"k1", "first"});
    CHECK(frames_of(sub) == std::vector<std::string>{"k2", std::string(300, 'l')});
}
