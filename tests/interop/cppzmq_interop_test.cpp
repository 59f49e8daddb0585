// On the wire zpat roles are plain ZeroMQ: a bare libzmq socket (here through cppzmq, in its own
// context) takes the other side of every pattern.

#include <catch2/catch.hpp>
#include <thread>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "support/test_support.hpp"
#include "zpat/zpat.hpp"

using namespace zpat::testing;
using zpat::message;

namespace {

std::string bind_ephemeral(zmq::socket_t& socket) {
    socket.bind("tcp://127.0.0.1:*");
    return socket.get(zmq::sockopt::last_endpoint);
}

std::vector<std::string> receive_strings(zmq::socket_t& socket) {
    std::vector<zmq::message_t> parts;
    REQUIRE(zmq::recv_multipart(socket, std::back_inserter(parts)));
    std::vector<std::string> result;
    for (auto& part : parts) {
        result.push_back(part.to_string());
    }
    return result;
}

}  // namespace

TEST_CASE("a plain REQ socket calls a zpat replier") {
    zmq::context_t context;
    zpat::replier replier("@tcp://127.0.0.1:*");
    std::thread server([&] {
        auto request = replier.receive(5s);
        REQUIRE(request);
        replier.reply(message{"re: " + request->front()});
    });
    zmq::socket_t req(context, zmq::socket_type::req);
    req.set(zmq::sockopt::rcvtimeo, 5000);
    req.connect(replier.endpoints()[0]);
    req.send(zmq::str_buffer("hello"));
    CHECK(receive_strings(req) == std::vector<std::string>{"re: hello"});
    server.join();
}

TEST_CASE("a zpat requester calls a plain REP socket") {
    zmq::context_t context;
    zmq::socket_t rep(context, zmq::socket_type::rep);
    rep.set(zmq::sockopt::rcvtimeo, 5000);
    const std::string endpoint = bind_ephemeral(rep);
    std::thread server([&] {
        CHECK(receive_strings(rep) == std::vector<std::string>{"a", "b"});
        rep.send(zmq::str_buffer("ok"));
    });
    zpat::requester requester(endpoint);
    auto reply = requester.request(message{"a", "b"});
    server.join();
    REQUIRE(reply);
    CHECK(*reply == message{"ok"});
}

TEST_CASE("plain PUSH and PULL sockets feed and drain zpat pullers and pushers") {
    zmq::context_t context;
    zpat::puller puller("@tcp://127.0.0.1:*");
    zmq::socket_t push(context, zmq::socket_type::push);
    push.connect(puller.endpoints()[0]);
    push.send(zmq::str_buffer("task"), zmq::send_flags::sndmore);
    push.send(zmq::str_buffer("42"));
    auto got = puller.receive(5s);
    REQUIRE(got);
    CHECK(*got == message{"task", "42"});

    zmq::socket_t pull(context, zmq::socket_type::pull);
    pull.set(zmq::sockopt::rcvtimeo, 5000);
    zpat::pusher pusher(bind_ephemeral(pull));
    REQUIRE(pusher.send(message{"result", "7"}));
    CHECK(receive_strings(pull) == std::vector<std::string>{"result", "7"});
}

TEST_CASE("a plain SUB socket hears a zpat publisher, and a zpat subscriber a plain PUB") {
    zmq::context_t context;
    zpat::publisher pub("@tcp://127.0.0.1:*");
    zmq::socket_t sub(context, zmq::socket_type::sub);
    sub.set(zmq::sockopt::rcvtimeo, 5000);
    sub.set(zmq::sockopt::subscribe, "10001");
    sub.connect(pub.endpoints()[0]);
    REQUIRE(pub.wait_for_subscriptions(1, 5s));
    pub.publish("90210", "skipped");
    pub.publish("10001", "21C");
    CHECK(receive_strings(sub) == std::vector<std::string>{"10001", "21C"});

    zmq::socket_t plain_pub(context, zmq::socket_type::pub);
    const std::string endpoint = bind_ephemeral(plain_pub);
    zpat::subscriber zsub(endpoint, {"10001"});
    // A plain PUB cannot tell when the subscription has arrived: publish until one is heard.
    std::optional<message> got;
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!got && std::chrono::steady_clock::now() < deadline) {
        plain_pub.send(zmq::str_buffer("10001"), zmq::send_flags::sndmore);
        plain_pub.send(zmq::str_buffer("22C"));
        got = zsub.receive(10ms);
    }
    REQUIRE(got);
    CHECK(*got == message{"10001", "22C"});
}
