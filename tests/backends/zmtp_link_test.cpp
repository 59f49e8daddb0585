// The connecting roles of zpat's own ZMTP (raw/zmtp_link.hpp, io_model::caller): the REQ of a
// requester and a service client, and the DEALER of a service worker, with libzmq servers and
// with servers that are not ZeroMQ at all. What every requester promises is in
// conformance/reqrep_test.cpp, and what a Majordomo worker does with zpat-broker in
// broker/service_broker_test.cpp; both run these roles too.

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <zmq.hpp>

#include "support/test_support.hpp"
#include "support/zmq_frames.hpp"
#include "support/zmtp_peers.hpp"
#include "zpat/core/error.hpp"
#include "zpat/majordomo.hpp"
#include "zpat/reqrep.hpp"
#include "zpat/service.hpp"

using namespace zpat::testing;
using zpat::message;

namespace {

// A loopback listener that is not ZeroMQ: each connection it accepts, on a thread of its own,
// is handed to `with_each` and closed when that returns.
class plain_server {
  public:
    explicit plain_server(std::function<void(int)> with_each)
        : listener_(::socket(AF_INET, SOCK_STREAM, 0)) {
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t size = sizeof address;
        REQUIRE(::bind(listener_, reinterpret_cast<sockaddr*>(&address), size) == 0);
        REQUIRE(::listen(listener_, 16) == 0);
        REQUIRE(::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &size) == 0);
        endpoint_ = "tcp://127.0.0.1:" + std::to_string(ntohs(address.sin_port));
        thread_ = std::thread([this, with_each = std::move(with_each)] {
            while (!stopping_) {
                pollfd p{listener_, POLLIN, 0};
                if (::poll(&p, 1, 20) != 1) {
                    continue;
                }
                const int fd = ::accept(listener_, nullptr, nullptr);
                if (fd >= 0) {
                    ++accepted_;
                    with_each(fd);
                    ::close(fd);
                }
            }
        });
    }
    ~plain_server() {
        stopping_ = true;
        thread_.join();
        ::close(listener_);
    }
    plain_server(const plain_server&) = delete;
    plain_server& operator=(const plain_server&) = delete;

    const std::string& endpoint() const { return endpoint_; }
    int accepted() const { return accepted_; }

  private:
    int listener_;
    std::string endpoint_;
    std::atomic<bool> stopping_{false};
    std::atomic<int> accepted_{0};
    std::thread thread_;
};

// Reads what `fd` sends until it closes, or for at most `limit`.
void read_until_closed(int fd, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    char buffer[4096];
    while (std::chrono::steady_clock::now() < deadline) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 20) == 1 && ::recv(fd, buffer, sizeof buffer, 0) <= 0) {
            return;
        }
    }
}

// A libzmq ROUTER bound to an ephemeral loopback port, receiving within 5 s; a server's
// heartbeat every `heartbeat` (0: none), its connections dropped after five unanswered.
zmq::socket_t bound_router(zmq::context_t& context, int heartbeat_ms = 0) {
    zmq::socket_t router(context, zmq::socket_type::router);
    router.set(zmq::sockopt::linger, 0);
    router.set(zmq::sockopt::rcvtimeo, 5000);
    if (heartbeat_ms > 0) {  // before bind: the listener gives its connections its options
        router.set(zmq::sockopt::heartbeat_ivl, heartbeat_ms);
        router.set(zmq::sockopt::heartbeat_timeout, 5 * heartbeat_ms);
    }
    router.bind("tcp://127.0.0.1:*");
    return router;
}

// Sends `frames` from `router` as one message.
void send_frames(zmq::socket_t& router, const std::vector<std::string>& frames) {
    for (std::size_t i = 0; i < frames.size(); ++i) {
        router.send(zmq::buffer(frames[i]),
                    i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    }
}

}  // namespace

TEST_CASE("caller requester: a libzmq ROUTER gets a REQ's envelope, and the reply comes back") {
    zmq::context_t context;
    zmq::socket_t router = bound_router(context);
    const std::string endpoint = router.get(zmq::sockopt::last_endpoint);
    zpat::requester requester(">" + endpoint, caller({.request_timeout = 5s, .retries = 0}));
    std::optional<message> reply;
    std::jthread client([&] { reply = requester.request(message{"hello", "two"}); });
    const auto request = frames_of(router);
    REQUIRE(request.size() == 4);  // the identity libzmq gave it, the delimiter, the frames
    CHECK(request[1].empty());
    CHECK(request[2] == "hello");
    CHECK(request[3] == "two");
    send_frames(router, {request[0], "", "world"});
    client.join();
    REQUIRE(reply);
    CHECK(*reply == message{"world"});
    const auto open = requester.open_connections();
    REQUIRE(open.size() == 1);
    CHECK(open[0].peer_role == "ROUTER");
    CHECK(open[0].endpoint == endpoint);
    CHECK(requester.connections().opened == 1);
}

TEST_CASE("caller requester: a message that is not a reply is dropped, as a REQ drops it") {
    zmq::context_t context;
    zmq::socket_t router = bound_router(context);
    zpat::requester requester(">" + router.get(zmq::sockopt::last_endpoint),
                              caller({.request_timeout = 5s, .retries = 0}));
    std::optional<message> reply;
    std::jthread client([&] { reply = requester.request(message{"hello"}); });
    const auto request = frames_of(router);
    REQUIRE(request.size() == 3);
    send_frames(router, {request[0], "no delimiter"});
    send_frames(router, {request[0], "", "the reply"});
    client.join();
    REQUIRE(reply);
    CHECK(*reply == message{"the reply"});
}

TEST_CASE("caller requester: it answers the server's heartbeats while it waits for a reply") {
    // A server that PINGs every 20 ms and drops a connection silent for 100 ms. Were the
    // PINGs not answered, the connection would be dropped and the request sent again on a new
    // one.
    zmq::context_t context;
    zmq::socket_t router = bound_router(context, 20);
    zpat::requester requester(">" + router.get(zmq::sockopt::last_endpoint),
                              caller({.request_timeout = 5s, .retries = 0}));
    std::optional<message> reply;
    std::jthread client([&] { reply = requester.request(message{"slow one"}); });
    const auto request = frames_of(router);
    REQUIRE(request.size() == 3);
    router.set(zmq::sockopt::rcvtimeo, 500);  // five heartbeat timeouts
    CHECK(frames_of(router).empty());         // not sent again
    send_frames(router, {request[0], "", "at last"});
    client.join();
    REQUIRE(reply);
    CHECK(*reply == message{"at last"});
    CHECK(requester.connections().opened == 1);
}

TEST_CASE("caller requester: a server that restarted between requests answers at the first try") {
    const reserved_port port;
    const std::string endpoint = port.endpoint("tcp");
    zpat::requester requester(">" + endpoint, caller({.request_timeout = 5s, .retries = 0}));
    const auto serve = [](zpat::replier& server) {
        return std::thread([&server] { server.serve([](message m) { return m; }); });
    };
    {
        zpat::replier first("@" + endpoint);
        std::thread serving = serve(first);
        CHECK(requester.request(message{"one"}) == message{"one"});
        first.stop();
        serving.join();
    }
    // The connection to the first server is gone; the request goes out on a new one. (libzmq
    // closes the old listener on its I/O thread, a moment after the replier is gone.)
    std::optional<zpat::replier> second;
    REQUIRE(eventually([&] {
        try {
            second.emplace("@" + endpoint);
            return true;
        } catch (const zpat::connection_error&) {
            return false;
        }
    }));
    std::thread serving = serve(*second);
    CHECK(requester.request(message{"two"}) == message{"two"});
    CHECK(requester.last_attempts() == 1);
    CHECK(requester.connections().opened == 2);
    second->stop();
    serving.join();
}

TEST_CASE("caller requester: a server that is not ZeroMQ costs the attempt and is not spun on") {
    plain_server http([](int fd) {
        const std::string answer = "HTTP/1.1 400 Bad Request\r\n\r\n";
        ::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL);
        read_until_closed(fd, 2s);
    });
    zpat::requester requester(">" + http.endpoint(),
                              caller({.request_timeout = 500ms, .retries = 0}));
    CHECK_FALSE(requester.request(message{"anyone?"}));
    CHECK(requester.connections().refused >= 1);
    CHECK(requester.connections().refused == requester.connections().closed);
    // Dialled again after 100 ms, then 200 ms, ...: a handful of times in 500 ms, not hundreds.
    CHECK(http.accepted() <= 5);
}

TEST_CASE("caller requester: a reply past its limits costs that server, the next one answers") {
    // The first server answers with a frame four times max_message_size: past twice the limits
    // (frames' headers counted) its connection is closed unread (zmtp::decoder), and counted.
    // The second answers well.
    zmq::context_t context;
    zmq::socket_t hostile = bound_router(context);
    zpat::replier good("@tcp://127.0.0.1:*");
    std::thread serving([&good] { good.serve([](message m) { return m; }); });
    zpat::requester requester(
        ">" + hostile.get(zmq::sockopt::last_endpoint) + ",>" + good.endpoints()[0],
        caller({.max_message_size = 1024,
                .max_message_frames = 4,
                .request_timeout = 2s,
                .retries = 1}));
    std::optional<message> reply;
    std::jthread client([&] { reply = requester.request(message{"small"}); });
    const auto request = frames_of(hostile);
    REQUIRE(request.size() == 3);
    send_frames(hostile, {request[0], "", std::string(4096, 'x')});
    client.join();
    REQUIRE(reply);
    CHECK(*reply == message{"small"});
    CHECK(requester.last_attempts() == 2);
    CHECK(requester.connections().malformed == 1);
    good.stop();
    serving.join();
}

TEST_CASE("caller requester: a server that never finishes the handshake is closed in time") {
    plain_server silent([](int fd) { read_until_closed(fd, 2s); });
    zpat::requester requester(
        ">" + silent.endpoint(),
        caller({.handshake_timeout = 100ms, .request_timeout = 1s, .retries = 0}));
    CHECK_FALSE(requester.request(message{"anyone?"}));
    CHECK(requester.connections().handshake_timeouts >= 1);
}

TEST_CASE("caller requester: the default to tcp:// servers, where libzmq's is chosen by name") {
    zpat::replier server("@tcp://127.0.0.1:*");
    std::thread serving([&server] { server.serve([](message m) { return m; }); });
    // zpat's own engine tells the role the server's READY named; libzmq does not.
    const auto peer_role = [](zpat::requester& requester) {
        REQUIRE(requester.request(message{"hi"}) == message{"hi"});
        const auto open = requester.open_connections();
        REQUIRE(open.size() == 1);
        return open[0].peer_role;
    };
    zpat::requester by_default(server.endpoints()[0]);
    CHECK_FALSE(peer_role(by_default).empty());
    zpat::requester libzmq(server.endpoints()[0], {.io = zpat::io_model::io_thread});
    CHECK(peer_role(libzmq).empty());
    server.stop();
    serving.join();
}

TEST_CASE("caller requester: with request_timeout forever it waits as long as the reply takes") {
    zmq::context_t context;
    zmq::socket_t router = bound_router(context);
    zpat::requester requester(">" + router.get(zmq::sockopt::last_endpoint),
                              caller({.request_timeout = zpat::forever}));
    std::optional<message> reply;
    std::jthread client([&] { reply = requester.request(message{"whenever"}); });
    const auto request = frames_of(router);
    REQUIRE(request.size() == 3);
    send_frames(router, {request[0], "", "now"});
    client.join();
    REQUIRE(reply);
    CHECK(*reply == message{"now"});
}

TEST_CASE("caller worker: registers with a libzmq ROUTER, heartbeats, and serves its requests") {
    namespace mdp = zpat::mdp;
    zmq::context_t context;
    zmq::socket_t broker = bound_router(context);
    zpat::service_worker worker(">" + broker.get(zmq::sockopt::last_endpoint), "echo",
                                caller({.heartbeat_interval = 50ms}));
    std::jthread serving([&] { worker.serve([](message m) { return m; }); });
    struct stop_on_exit {  // before serving's join, however the case ends
        zpat::service_worker& worker;
        ~stop_on_exit() { worker.stop(); }
    } stop{worker};
    // The worker's next message that carries `wanted`, passing over the others (heartbeats).
    const auto next_command = [&](mdp::command wanted) {
        for (int i = 0; i < 100; ++i) {
            auto got = frames_of(broker);
            REQUIRE(got.size() >= 4);
            CHECK(got[1].empty());
            CHECK(got[2] == mdp::worker_header);
            if (got[3] == mdp::frame_of(wanted)) {
                return got;
            }
        }
        FAIL("the command wanted is not among 100 from the worker");
        return std::vector<std::string>{};
    };
    const auto ready = next_command(mdp::command::ready);
    REQUIRE(ready.size() == 5);
    CHECK(ready[4] == "echo");
    next_command(mdp::command::heartbeat);
    const std::string& identity = ready[0];
    const std::vector<std::string> request{identity,
                                           "",
                                           std::string(mdp::worker_header),
                                           std::string(mdp::frame_of(mdp::command::request)),
                                           "client-7",
                                           "",
                                           "body"};
    send_frames(broker, request);
    const auto reply = next_command(mdp::command::reply);
    CHECK(reply == std::vector<std::string>{identity, "", std::string(mdp::worker_header),
                                            std::string(mdp::frame_of(mdp::command::reply)),
                                            "client-7", "", "body"});
}

TEST_CASE("caller worker: a receive() with no time to wait still connects, registers and reads") {
    namespace mdp = zpat::mdp;
    zmq::context_t context;
    zmq::socket_t broker = bound_router(context);
    broker.set(zmq::sockopt::rcvtimeo, 0);
    zpat::service_worker worker(">" + broker.get(zmq::sockopt::last_endpoint), "echo", caller());
    // A worker polled, as a loop of the caller's own would: receive() with a zero timeout.
    std::vector<std::string> ready;
    REQUIRE(eventually([&] {
        CHECK_FALSE(worker.receive(0ms));
        ready = frames_of(broker);
        return !ready.empty();
    }));
    REQUIRE(ready.size() == 5);
    CHECK(ready[3] == mdp::frame_of(mdp::command::ready));
    send_frames(broker,
                {ready[0], "", std::string(mdp::worker_header),
                 std::string(mdp::frame_of(mdp::command::request)), "client-1", "", "body"});
    std::optional<message> request;
    REQUIRE(eventually([&] {
        request = worker.receive(0ms);
        return request.has_value();
    }));
    CHECK(*request == message{"body"});
}
