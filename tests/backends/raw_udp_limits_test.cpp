// raw+udp against a peer that lies about its address or asks for too much. A UDP source address
// can be forged, so nothing larger than what came goes to an address until it has echoed a
// cookie sent there; and a publisher bounds what its subscribers, and each host, may make it
// hold. The peers here are plain sockets writing docs/wire-format.md by hand; 127.0.0.2 and
// 127.0.0.3 play other hosts.

#include <catch2/catch.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/plain_udp.hpp"
#include "support/raw_wire_bytes.hpp"
#include "support/test_support.hpp"
#include "zpat/zpat.hpp"

using namespace zpat::testing;
using zpat::message;

namespace {

constexpr std::size_t header = 16;

// Everything that reaches `peer` until nothing more comes for `quiet`.
std::vector<std::string> everything_for(const plain_udp& peer,
                                        std::chrono::milliseconds quiet = 300ms) {
    peer.set_read_timeout(quiet);
    std::vector<std::string> got;
    for (auto one = peer.receive(); one.second != 0; one = peer.receive()) {
        got.push_back(one.first);
    }
    peer.set_read_timeout(5s);
    return got;
}

bool is_cookie_from(const std::string& datagram, char role) {
    return datagram.size() == header && datagram.substr(0, 5) == std::string("ZPAT\x01", 5) &&
           datagram[5] == role && datagram[6] == 'C' && datagram[7] == '\0';
}

// Sends a publisher a subscribe for `prefixes` as a subscriber written from the wire format
// does: first without a cookie, then with the one it is answered with. Returns whether the
// publisher took it, which the test's thread sees by letting the publisher read (as its send()
// does between messages).
bool register_by_hand(zpat::publisher& pub, const plain_udp& peer,
                      const std::vector<std::string>& prefixes) {
    const std::string endpoint = pub.endpoints()[0];
    const std::size_t before = pub.subscriptions_seen();
    peer.send_to(endpoint, udp_datagram('s', 'S', 0, prefixes));
    CHECK_FALSE(pub.wait_for_subscriptions(before + 1, 100ms));  // only a cookie comes back
    const auto [cookie, port] = peer.receive();
    REQUIRE(is_cookie_from(cookie, 'p'));
    peer.send_to(endpoint, udp_datagram('s', 'S', 0, prefixes, read_u64(cookie, 8)));
    return pub.wait_for_subscriptions(before + prefixes.size(), 300ms);
}

}  // namespace

TEST_CASE("raw+udp: an unproven subscribe gets only a cookie, no larger than itself") {
    zpat::publisher pub("@raw+udp://127.0.0.1:*");
    const std::string endpoint = pub.endpoints()[0];
    const plain_udp forged("127.0.0.2");  // where a forger would send the publisher's traffic
    const std::string subscribe = udp_datagram('s', 'S', 0, {""});
    forged.send_to(endpoint, subscribe);
    CHECK_FALSE(pub.wait_for_subscriptions(1, 200ms));
    for (int i = 0; i < 100; ++i) {
        pub.publish("t", std::string(1000, 'x'));  // 100 kB that must not go there
    }
    const auto got = everything_for(forged);
    REQUIRE(got.size() == 1);
    CHECK(is_cookie_from(got[0], 'p'));
    CHECK(got[0].size() <= subscribe.size());  // 16 bytes for 24: no amplification
    CHECK(pub.connections().opened == 0);

    // Echoing the cookie proves the address: from then on it is a subscriber like any other.
    forged.send_to(endpoint, udp_datagram('s', 'S', 0, {""}, read_u64(got[0], 8)));
    REQUIRE(pub.wait_for_subscriptions(1, 5s));
    pub.publish("t", "now");
    const auto [publication, port] = forged.receive();
    CHECK(publication == udp_datagram('p', 'P', 1, {"t", "now"}));
    CHECK(pub.connections().opened == 1);
}

TEST_CASE("raw+udp: a cookie made for another address proves nothing, and is counted") {
    zpat::publisher pub("@raw+udp://127.0.0.1:*");
    const std::string endpoint = pub.endpoints()[0];
    const plain_udp honest("127.0.0.2");
    const plain_udp thief("127.0.0.3");
    honest.send_to(endpoint, udp_datagram('s', 'S', 0, {""}));
    CHECK_FALSE(pub.wait_for_subscriptions(1, 100ms));
    const auto [cookie, port] = honest.receive();
    REQUIRE(is_cookie_from(cookie, 'p'));
    thief.send_to(endpoint, udp_datagram('s', 'S', 0, {""}, read_u64(cookie, 8)));
    CHECK_FALSE(pub.wait_for_subscriptions(1, 200ms));
    pub.publish("t", "secret");
    const auto got = everything_for(thief);
    REQUIRE(got.size() == 1);
    CHECK(is_cookie_from(got[0], 'p'));
    CHECK(read_u64(got[0], 8) != read_u64(cookie, 8));  // its own, which it must echo
    CHECK(pub.connections().refused == 1);
    CHECK(pub.connections().opened == 0);
}

TEST_CASE("raw+udp: a replier sends a reply larger than its request only to a proven address") {
    zpat::replier replier("@raw+udp://127.0.0.1:*");
    const std::string endpoint = replier.endpoints()[0];
    const plain_udp client("127.0.0.2");

    // A small answer goes straight back: it is no larger than the request.
    client.send_to(endpoint, udp_datagram('q', 'Q', 7, {"small?"}));
    REQUIRE(replier.receive(5s));
    replier.reply(message{"ok"});
    CHECK(client.receive().first == udp_datagram('r', 'R', 7, {"ok"}));

    // A large one goes only after the cookie comes back, from the cache: the handler ran once.
    const std::string ask = udp_datagram('q', 'Q', 8, {"large?"});
    client.send_to(endpoint, ask);
    REQUIRE(replier.receive(5s));
    const std::string large(10000, 'r');
    replier.reply(message{large});
    const auto got = everything_for(client);
    REQUIRE(got.size() == 1);
    CHECK(is_cookie_from(got[0], 'r'));
    CHECK(got[0].size() <= ask.size());
    client.send_to(endpoint, udp_datagram('q', 'Q', 8, {"large?"}, read_u64(got[0], 8)));
    CHECK_FALSE(replier.receive(200ms));  // a retry, answered from the cache
    CHECK(client.receive().first == udp_datagram('r', 'R', 8, {large}));
}

TEST_CASE("raw+udp: a zpat requester proves its address and gets a large reply") {
    zpat::replier replier("@raw+udp://127.0.0.1:*");
    zpat::requester requester(replier.endpoints()[0], {.request_timeout = 5s, .retries = 0});
    std::thread server([&] {
        for (int i = 0; i < 2 && replier.receive(5s); ++i) {
            replier.reply(message{std::string(20000, 'r')});
        }
    });
    for (int i = 0; i < 2; ++i) {
        auto reply = requester.request(message{"large?"});
        REQUIRE(reply);
        CHECK(reply->front().size() == 20000);
        CHECK(requester.last_attempts() == 1);  // the cookie cost a round trip, not a timeout
    }
    server.join();
}

TEST_CASE("raw+udp: one host holds at most max_subscribers_per_host, and others are served") {
    zpat::publisher pub("@raw+udp://127.0.0.1:*", {.max_subscribers_per_host = 4});
    std::vector<std::unique_ptr<plain_udp>> crowd;
    int taken = 0;
    for (int i = 0; i < 6; ++i) {
        crowd.push_back(std::make_unique<plain_udp>("127.0.0.2"));
        taken += register_by_hand(pub, *crowd.back(), {""}) ? 1 : 0;
    }
    CHECK(taken == 4);
    CHECK(pub.connections().over_limits == 2);
    zpat::subscriber honest(pub.endpoints()[0], {""});  // from 127.0.0.1
    REQUIRE(pub.wait_for_subscriptions(5, 5s));
    REQUIRE(pub.publish("t", "for everyone"));
    auto got = honest.receive(5s);
    REQUIRE(got);
    CHECK(*got == message{"t", "for everyone"});
}

TEST_CASE("raw+udp: a subscription past a publisher's limits is not taken, and is counted") {
    zpat::publisher pub(
        "@raw+udp://127.0.0.1:*",
        {.max_subscriptions = 2, .max_subscription_prefix = 8, .max_subscribers = 1});
    const plain_udp first("127.0.0.2");
    const plain_udp second("127.0.0.3");
    CHECK_FALSE(register_by_hand(pub, first, {"a", "b", "c"}));  // max_subscriptions
    CHECK_FALSE(register_by_hand(pub, first, {"123456789"}));    // max_subscription_prefix
    CHECK(register_by_hand(pub, first, {"a"}));
    CHECK_FALSE(register_by_hand(pub, second, {"b"}));  // max_subscribers
    CHECK(pub.connections().over_limits == 3);
    CHECK(pub.connections().opened == 1);
    // A subscriber that then asks for too much is dropped, not kept with what it had.
    CHECK_FALSE(register_by_hand(pub, first, {"a", "b", "c"}));
    CHECK(pub.connections().over_limits == 4);
    CHECK(pub.connections().closed == 1);
    pub.publish("a", "to nobody");
    CHECK(everything_for(first).empty());
}
