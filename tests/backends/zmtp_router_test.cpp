// zpat's own ZMTP router (raw/zmtp_router.hpp) with libzmq peers: routing, identities, limits,
// and peers that break the protocol.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "support/test_support.hpp"
#include "support/zmq_frames.hpp"
#include "zmtp_router.hpp"
#include "zpat/core/error.hpp"

using namespace zpat::testing;
using zpat::message;
using zpat::detail::zmtp_router;

namespace {

zmtp_router bound(const zpat::options& opts = {}) {
    return zmtp_router(zpat::parse_endpoints("tcp://127.0.0.1:*", zpat::link::bind), opts);
}

// A plain TCP connection to `endpoint` ("tcp://127.0.0.1:port"), for peers that misbehave.
int plain_connect(const std::string& endpoint) {
    const int port = std::stoi(endpoint.substr(endpoint.rfind(':') + 1));
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    return fd;
}

// True once `fd` reads end of file (the router closed it) within the deadline, while `router`
// is driven.
bool closed_by(zmtp_router& router, int fd) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline) {
        message ignored;
        router.receive(ignored, 10ms);
        pollfd p{fd, POLLIN, 0};
        std::array<char, 256> buf{};
        if (::poll(&p, 1, 0) == 1 && ::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT) == 0) {
            return true;
        }
    }
    return false;
}

}  // namespace

TEST_CASE("zmtp router: REQ and DEALER peers are routed by identity, replies go back") {
    auto router = bound();
    zmq::context_t context;
    zmq::socket_t req(context, zmq::socket_type::req);
    zmq::socket_t dealer(context, zmq::socket_type::dealer);
    for (auto* s : {&req, &dealer}) {
        s->set(zmq::sockopt::linger, 0);
        s->set(zmq::sockopt::rcvtimeo, 5000);
    }
    dealer.set(zmq::sockopt::routing_id, "alice");
    req.connect(router.endpoints()[0]);
    dealer.connect(router.endpoints()[0]);
    REQUIRE(req.send(zmq::str_buffer("from req"), zmq::send_flags::none));
    REQUIRE(dealer.send(zmq::str_buffer("from alice"), zmq::send_flags::none));
    std::map<std::string, message> by_body;
    for (int i = 0; i < 2; ++i) {
        message in;
        REQUIRE(router.receive(in, 5s));
        by_body[in.back()] = in;
    }
    REQUIRE(by_body.count("from alice") == 1);
    CHECK(by_body["from alice"] == message{"alice", "from alice"});
    const message from_req = by_body["from req"];
    REQUIRE(from_req.size() == 3);  // identity, REQ's empty delimiter, body
    CHECK(from_req[0].size() == 5);
    CHECK(from_req[0][0] == '\0');  // made up: 0x00 and a counter
    CHECK(from_req[1].empty());

    REQUIRE(router.send(message{from_req[0], "", "to req"}));
    REQUIRE(router.send(message{"alice", "to alice", std::string(100000, 'a')}));
    CHECK(frames_of(req) == std::vector<std::string>{"to req"});
    CHECK(frames_of(dealer) == std::vector<std::string>{"to alice", std::string(100000, 'a')});

    CHECK_FALSE(router.send(message{"nobody", "x"}));
    CHECK(router.unroutable() == 1);
    CHECK(router.connections().opened == 2);
    const auto open = router.open_connections();
    REQUIRE(open.size() == 2);
    for (const auto& c : open) {
        CHECK(c.endpoint == router.endpoints()[0]);
        CHECK(c.peer.starts_with("127.0.0.1:"));
        CHECK((c.peer_role == "REQ" || c.peer_role == "DEALER"));
    }
}

TEST_CASE("zmtp router: its descriptor is readable when a message is on its way") {
    auto router = bound();
    zmq::context_t context;
    zmq::socket_t dealer(context, zmq::socket_type::dealer);
    dealer.set(zmq::sockopt::linger, 0);
    dealer.connect(router.endpoints()[0]);
    REQUIRE(dealer.send(zmq::str_buffer("wake"), zmq::send_flags::none));
    message in;
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (in.empty()) {
        REQUIRE(std::chrono::steady_clock::now() < deadline);
        pollfd p{router.fd(), POLLIN, 0};
        if (::poll(&p, 1, 100) == 1) {
            router.receive(in, 0ms);  // each wake-up does what is ready, without waiting
        }
    }
    CHECK(in.back() == "wake");
    // Messages that one read brought keep it readable until each has been taken.
    for (int i = 0; i < 3; ++i) {
        REQUIRE(dealer.send(zmq::buffer(std::to_string(i)), zmq::send_flags::none));
    }
    std::string taken;
    while (taken.size() < 3) {
        REQUIRE(std::chrono::steady_clock::now() < deadline);
        pollfd p{router.fd(), POLLIN, 0};
        REQUIRE(::poll(&p, 1, 1000) == 1);
        if (router.receive(in, 0ms)) {
            taken += in.back();
        }
    }
    CHECK(taken == "012");
    pollfd idle{router.fd(), POLLIN, 0};
    CHECK(::poll(&idle, 1, 0) == 0);
}

TEST_CASE("zmtp router: peers that break the protocol are closed and counted while others go on") {
    zpat::options opts;
    opts.handshake_timeout = 100ms;
    opts.max_message_size = 1000;
    auto router = bound(opts);
    zmq::context_t context;
    zmq::socket_t good(context, zmq::socket_type::dealer);
    good.set(zmq::sockopt::linger, 0);
    good.set(zmq::sockopt::routing_id, "good");
    good.set(zmq::sockopt::rcvtimeo, 5000);
    good.connect(router.endpoints()[0]);

    const int http = plain_connect(router.endpoints()[0]);
    const std::string get = "GET / HTTP/1.1\r\n\r\n";
    REQUIRE(::send(http, get.data(), get.size(), 0) == static_cast<ssize_t>(get.size()));
    CHECK(closed_by(router, http));
    ::close(http);
    const int silent = plain_connect(router.endpoints()[0]);
    CHECK(closed_by(router, silent));
    ::close(silent);

    // Over max-message-size: dropped and counted; past twice it (with room for the headers of
    // twice max-message-frames frames): the connection goes.
    zmq::socket_t big(context, zmq::socket_type::dealer);
    big.set(zmq::sockopt::linger, 0);
    big.connect(router.endpoints()[0]);
    REQUIRE(big.send(zmq::buffer(std::string(1500, 'b')), zmq::send_flags::none));
    message in;
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (router.oversized_dropped() == 0) {
        REQUIRE(std::chrono::steady_clock::now() < deadline);
        CHECK_FALSE(router.receive(in, 10ms));
    }
    REQUIRE(good.send(zmq::str_buffer("still here"), zmq::send_flags::none));
    REQUIRE(router.receive(in, 5s));
    CHECK(in == message{"good", "still here"});
    REQUIRE(big.send(zmq::buffer(std::string(30000, 'b')), zmq::send_flags::none));
    while (router.connections().malformed == 0) {
        REQUIRE(std::chrono::steady_clock::now() < deadline);
        CHECK_FALSE(router.receive(in, 10ms));
    }
    const auto counts = router.connections();
    CHECK(counts.refused == 1);
    CHECK(counts.handshake_timeouts == 1);
    CHECK(counts.malformed == 1);
    REQUIRE(router.send(message{"good", "answered"}));
    CHECK(frames_of(good) == std::vector<std::string>{"answered"});
}

TEST_CASE("zmtp router: silent connections close at their own deadlines inside a long wait") {
    zpat::options opts;
    opts.handshake_timeout = 100ms;
    auto router = bound(opts);
    zmq::context_t context;
    const int first = plain_connect(router.endpoints()[0]);
    zmq::socket_t good(context, zmq::socket_type::dealer);
    good.set(zmq::sockopt::linger, 0);
    good.set(zmq::sockopt::rcvtimeo, 5000);
    good.connect(router.endpoints()[0]);
    REQUIRE(good.send(zmq::str_buffer("hello"), zmq::send_flags::none));
    message in;
    REQUIRE(router.receive(in, 5s));  // named: no deadline of its own any more
    const int second = plain_connect(router.endpoints()[0]);
    // One receive that waits far longer than the handshake timeout: each silent connection is
    // closed at its deadline meanwhile, the older first, and the named one stays.
    std::thread waiting([&] {
        message none;
        router.receive(none, 4s);
    });
    const auto ends = [](int fd) {  // reads the router's greeting, then its end, in 3 s
        const auto deadline = std::chrono::steady_clock::now() + 3s;
        std::array<char, 256> buf{};
        for (pollfd p{fd, POLLIN, 0}; ::poll(&p, 1, 50) >= 0;) {
            if (p.revents != 0 && ::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT) == 0) {
                return true;
            }
            if (std::chrono::steady_clock::now() >= deadline) {
                return false;
            }
        }
        return false;
    };
    const bool first_closed = ends(first);
    const bool second_closed = ends(second);
    waiting.join();
    CHECK(first_closed);
    CHECK(second_closed);
    CHECK(router.connections().handshake_timeouts == 2);
    REQUIRE(router.send(message{in[0], "still here"}));
    CHECK(frames_of(good) == std::vector<std::string>{"still here"});
    ::close(first);
    ::close(second);
}

TEST_CASE("zmtp router: twenty DEALERs, a hundred requests each, all answered in order") {
    auto router = bound();
    zmq::context_t context;
    std::vector<std::unique_ptr<zmq::socket_t>> clients;
    for (int c = 0; c < 20; ++c) {
        auto s = std::make_unique<zmq::socket_t>(context, zmq::socket_type::dealer);
        s->set(zmq::sockopt::linger, 0);
        s->set(zmq::sockopt::rcvtimeo, 5000);
        s->set(zmq::sockopt::routing_id, "client-" + std::to_string(c));
        s->connect(router.endpoints()[0]);
        clients.push_back(std::move(s));
    }
    for (int i = 0; i < 100; ++i) {
        for (auto& s : clients) {
            REQUIRE(s->send(zmq::buffer(std::to_string(i)), zmq::send_flags::dontwait));
        }
    }
    for (int n = 0; n < 2000; ++n) {
        message in;
        REQUIRE(router.receive(in, 5s));
        REQUIRE(router.send(in));  // echo: the identity routes it back
    }
    for (auto& s : clients) {
        for (int i = 0; i < 100; ++i) {
            REQUIRE(frames_of(*s) == std::vector<std::string>{std::to_string(i)});
        }
    }
}

TEST_CASE("zmtp router: with no handshake timeout and no linger limit it waits as told") {
    zpat::options opts;
    // forever, or 0 as libzmq's ZMQ_HANDSHAKE_IVL takes it (and zpat's connecting side)
    opts.handshake_timeout =
        GENERATE(as<std::chrono::milliseconds>{}, zpat::forever, std::chrono::milliseconds{0});
    CAPTURE(opts.handshake_timeout.count());
    opts.linger = zpat::forever;
    auto router = std::make_unique<zmtp_router>(
        zpat::parse_endpoints("tcp://127.0.0.1:*", zpat::link::bind), opts);
    const int slow = plain_connect(router->endpoints()[0]);
    zmq::context_t context;
    zmq::socket_t dealer(context, zmq::socket_type::dealer);
    dealer.set(zmq::sockopt::linger, 0);
    dealer.set(zmq::sockopt::routing_id, "d");
    dealer.connect(router->endpoints()[0]);
    REQUIRE(dealer.send(zmq::str_buffer("hello"), zmq::send_flags::none));
    message in;
    REQUIRE(router->receive(in, 5s));
    CHECK(in == message{"d", "hello"});
    message none;
    CHECK_FALSE(router->receive(none, 200ms));
    CHECK(router->connections().handshake_timeouts == 0);  // the silent one is still there
    CHECK(router->open_connections().size() == 2);
    REQUIRE(router->send(message{"d", "bye"}));
    router.reset();  // all written already: the linger has nothing to wait for
    dealer.set(zmq::sockopt::rcvtimeo, 5000);
    CHECK(frames_of(dealer) == std::vector<std::string>{"bye"});
    ::close(slow);
}

TEST_CASE("zmtp router: binds tcp:// only, and says so") {
    CHECK_THROWS_AS(zmtp_router(zpat::parse_endpoints("ipc:///tmp/x", zpat::link::bind), {}),
                    zpat::unsupported_error);
    CHECK_THROWS_AS(
        zmtp_router(zpat::parse_endpoints("tcp://127.0.0.1:1", zpat::link::connect), {}),
        zpat::unsupported_error);
}
