// The Majordomo broker's protocol driven with frames alone, no sockets: what a hostile peer can
// make it remember or send, bounded. Each message goes in as the ROUTER would deliver it:
// [identity] [""] [header] [command or service] ...

#include <algorithm>
#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "majordomo_broker.hpp"
#include "zpat/majordomo.hpp"

namespace {

using zpat::message;
using zpat::broker::service_config;
using zpat::broker::detail::majordomo_broker;
using zpat::broker::detail::traffic_counters;
namespace mdp = zpat::mdp;

// The protocol with what it sends kept, and a few ways to speak to it.
struct harness {
    explicit harness(service_config c = {}) : cfg(std::move(c)) {}

    void in(message msg) { protocol.on_message(msg); }
    void ready(const std::string& worker, const std::string& service) {
        in(message{worker, "", mdp::worker_header, mdp::frame_of(mdp::command::ready), service});
    }
    void request(const std::string& client, const std::string& service, const std::string& body) {
        in(message{client, "", mdp::client_header, service, body});
    }
    void reply(const std::string& worker, const std::string& client, const std::string& body) {
        in(message{worker, "", mdp::worker_header, mdp::frame_of(mdp::command::reply), client, "",
                   body});
    }
    // How many messages went to `peer` carrying `command` (a worker command frame).
    std::size_t sent_to(const std::string& peer, mdp::command command) const {
        return static_cast<std::size_t>(
            std::count_if(sent.begin(), sent.end(), [&](const message& m) {
                return m.size() >= 4 && m[0] == peer && m[2] == mdp::worker_header &&
                       m[3] == mdp::frame_of(command);
            }));
    }
    std::optional<zpat::broker::service_stats> service(const std::string& name) const {
        for (const auto& row : protocol.table()) {
            if (row.name == name) {
                return row;
            }
        }
        return std::nullopt;
    }

    service_config cfg;
    traffic_counters counts;
    std::vector<message> sent;
    majordomo_broker protocol{cfg, counts, [this](const message& m) { sent.push_back(m); }};
};

}  // namespace

TEST_CASE("mdp: a REPLY from a worker that holds no request is DISCONNECT, not a second turn",
          "[broker][service][robustness]") {
    harness h;
    h.ready("w", "echo");
    for (int i = 0; i < 1000; ++i) {
        h.reply("w", "nobody", "unsolicited");
    }
    // Told to go and forgotten at the first: not listed as waiting a thousand times. The
    // REPLYs that follow come from a stranger, answered DISCONNECT within the rate limit.
    const std::size_t told = h.sent_to("w", mdp::command::disconnect);
    CHECK(told >= 1);
    CHECK(told <= 20);
    CHECK(h.sent.size() == told);  // nothing reached "nobody"
    REQUIRE(h.service("echo"));
    CHECK(h.service("echo")->workers == 0);
    CHECK(h.service("echo")->waiting_workers == 0);

    // A worker holding a request replies once; a second REPLY is unexpected.
    h.ready("v", "echo");
    h.request("client", "echo", "hello");
    REQUIRE(h.sent_to("v", mdp::command::request) == 1);
    h.reply("v", "client", "hello");
    CHECK(h.sent.back() == message{"client", "", mdp::client_header, "echo", "hello"});
    CHECK(h.service("echo")->waiting_workers == 1);
    h.reply("v", "client", "again");
    CHECK(h.sent_to("v", mdp::command::disconnect) == 1);
    CHECK(h.service("echo")->waiting_workers == 0);
}

TEST_CASE("mdp: a service name over max_service_name is refused, counted, and makes no entry",
          "[broker][service][robustness]") {
    harness h({.max_service_name = 8});
    h.request("client", std::string(9, 'x'), "body");
    CHECK(h.protocol.counted().names_refused.get() == 1);
    CHECK(h.protocol.table().empty());
    CHECK(h.sent.empty());  // MDP has no refusal reply: the client's timeout tells it

    h.ready("w", std::string(9, 'x'));
    CHECK(h.protocol.counted().names_refused.get() == 2);
    CHECK(h.sent_to("w", mdp::command::disconnect) == 1);
    CHECK(h.protocol.table().empty());

    h.ready("w2", std::string(8, 'x'));  // at the limit: served
    h.request("client", std::string(8, 'x'), "body");
    CHECK(h.sent_to("w2", mdp::command::request) == 1);
}

TEST_CASE("mdp: past max_services a new service is refused, and known ones are still served",
          "[broker][service][robustness]") {
    harness h({.max_services = 3});
    h.ready("w", "echo");
    h.request("client", "a", "1");  // waits for a worker: the entry stays
    h.request("client", "b", "2");
    for (int i = 0; i < 10000; ++i) {
        h.request("client", "made-up-" + std::to_string(i), "x");
    }
    CHECK(h.protocol.table().size() == 3);
    CHECK(h.protocol.counted().names_refused.get() == 10000);
    h.ready("late", "c");  // a worker for a fourth service is told to go
    CHECK(h.sent_to("late", mdp::command::disconnect) == 1);
    h.ready("w2", "a");  // a worker for a known one is taken, and gets the waiting request
    CHECK(h.sent_to("w2", mdp::command::request) == 1);
    h.request("client", "echo", "still served");
    CHECK(h.sent_to("w", mdp::command::request) == 1);
}

TEST_CASE("mdp: one peer's unexpected commands are answered at most max_unexpected_per_second",
          "[broker][service][robustness]") {
    harness h({.max_unexpected_per_second = 10});
    for (int i = 0; i < 500; ++i) {
        h.in(message{"stranger", "", mdp::worker_header, mdp::frame_of(mdp::command::heartbeat)});
    }
    // The loop takes microseconds; were it stalled past a second, a second window would open.
    const std::size_t answered = h.sent_to("stranger", mdp::command::disconnect);
    CHECK(answered >= 10);
    CHECK(answered <= 20);
    CHECK(h.protocol.counted().unexpected_dropped.get() == 500 - answered);
    CHECK(h.protocol.counted().disconnects_sent.get() == answered);
    // Another peer is answered as before.
    h.in(message{"other", "", mdp::worker_header, mdp::frame_of(mdp::command::heartbeat)});
    CHECK(h.sent_to("other", mdp::command::disconnect) == 1);
}

TEST_CASE("mdp: a request of many empty frames costs the queue what it holds, within budget",
          "[broker][service][robustness]") {
    // The socket refuses a message over max_message_frames; within it, each frame is charged
    // its bookkeeping, so empty frames cannot hold memory the budget does not see.
    constexpr std::size_t budget = std::size_t{64} * 1024;
    constexpr std::size_t frames = 1000;
    harness h({.max_queued_bytes = budget});
    message many{"client", "", mdp::client_header, "nobody-serves"};
    for (std::size_t i = 0; i < frames; ++i) {
        many.push_back("");
    }
    for (int i = 0; i < 100; ++i) {
        h.in(many);  // a copy each time: the protocol takes its frames
    }
    const auto row = h.service("nobody-serves");
    REQUIRE(row);
    const std::uint64_t held = h.protocol.counted().queued_bytes.get();
    CHECK(held <= budget);
    CHECK(held >= row->queued * frames * sizeof(std::string));
    CHECK(row->queued >= 1);
    CHECK(row->queued + h.protocol.counted().requests_rejected.get() == 100);
}

TEST_CASE(
    "service permissions: only an allowed key serves or calls a service, * allows every "
    "service, and each refusal is counted",
    "[broker][service][curve]") {
    service_config cfg;
    cfg.workers_allowed = {{"echo", {"worker-key"}}, {"*", {"admin-key"}}};
    cfg.callers_allowed = {{"echo", {"client-key"}}};
    harness h(cfg);
    const auto ready_as = [&](const std::string& worker, const std::string& service,
                              const std::string& key) {
        message msg{worker, "", mdp::worker_header, mdp::frame_of(mdp::command::ready), service};
        h.protocol.on_message(msg, key);
    };
    const auto request_as = [&](const std::string& client, const std::string& body,
                                const std::string& key) {
        message msg{client, "", mdp::client_header, "echo", body};
        h.protocol.on_message(msg, key);
    };

    ready_as("forger", "echo", "stranger-key");
    CHECK(h.sent_to("forger", mdp::command::disconnect) == 1);
    CHECK(h.protocol.counted().workers_refused.get() == 1);
    CHECK_FALSE(h.service("echo"));  // the refused READY left nothing behind

    ready_as("real", "echo", "worker-key");
    ready_as("admin", "other", "admin-key");  // * covers a service named nowhere else
    ready_as("wrong-service", "other", "worker-key");
    CHECK(h.sent_to("wrong-service", mdp::command::disconnect) == 1);
    CHECK(h.protocol.counted().workers_refused.get() == 2);
    CHECK(h.service("echo")->workers == 1);
    CHECK(h.service("other")->workers == 1);

    request_as("intruder", "not for you", "stranger-key");
    CHECK(h.protocol.counted().calls_refused.get() == 1);
    CHECK(h.sent_to("real", mdp::command::request) == 0);
    request_as("client", "hello", "client-key");
    CHECK(h.sent_to("real", mdp::command::request) == 1);
    CHECK(h.sent_to("forger", mdp::command::request) == 0);
}

TEST_CASE("a worker's reply reaches only the client whose request it was given",
          "[broker][service]") {
    harness h;
    h.ready("worker", "echo");
    h.request("alice", "echo", "hers");
    REQUIRE(h.sent_to("worker", mdp::command::request) == 1);
    h.reply("worker", "bob", "forged for bob");  // bob asked for nothing
    CHECK(std::none_of(h.sent.begin(), h.sent.end(),
                       [](const message& m) { return m.size() > 0 && m[0] == "bob"; }));
    CHECK(h.sent_to("worker", mdp::command::disconnect) == 1);
    CHECK_FALSE(h.service("echo")->workers == 1);  // forgotten: it registers again
}
