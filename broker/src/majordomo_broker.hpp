#pragma once
// The Majordomo broker's protocol (MDP/0.1 with MMI, ZeroMQ RFCs 7 and 8) apart from any socket:
// messages in as the ROUTER delivers them ([identity] [""] [header] ...), messages out through
// the sender it is given. The service broker device runs it on a ROUTER socket; tests and
// fuzzers can drive it with frames alone.
//
// Each service has a queue of requests and a queue of idle workers; a request goes to the worker
// that has been idle longest. Every message from a worker proves it alive; the device heartbeats
// every worker each interval and purges those silent for interval x liveness, busy or not (a busy
// worker must keep heartbeating, says the RFC). A worker purged while busy is remembered for one
// more expiry period, so that a late reply still reaches its client. Requests wait for a worker
// up to max_queued_bytes of memory (all services) and max_queue per service, and up to
// request_expiry in time. Malformed messages are dropped and counted; a registered worker that
// sends one, or sends a valid command at the wrong time (a REPLY while it holds no request
// among them), is told DISCONNECT and forgotten, at most max_unexpected_per_second times a
// second per peer. Service names are bounded in length and number.

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "device.hpp"
#include "zpat/broker/broker.hpp"
#include "zpat/core/message.hpp"
#include "zpat/majordomo.hpp"

namespace zpat::broker::detail {

class majordomo_broker {
  public:
    using clock = std::chrono::steady_clock;
    using sender = std::function<void(const message&)>;

    struct counters {
        counter workers_expired;
        counter disconnects_sent;
        counter mmi_requests;
        counter requests_expired;
        counter requests_rejected;
        counter queued_bytes;
        counter names_refused;
        counter unexpected_dropped;
        counter workers_refused;
        counter calls_refused;
    };

    // `counts` takes the traffic in and the malformed messages dropped.
    majordomo_broker(const service_config& cfg, traffic_counters& counts, sender send);

    // One message from the ROUTER. Its frames may be moved from. `peer_key` is the CURVE key
    // its sender was let in with (router::peer_key), for service_config's permissions.
    void on_message(message& msg, std::string_view peer_key = {});
    // Purges the workers silent for the expiry (remembered a while, for a late reply) and
    // heartbeats the others.
    void heartbeat(clock::time_point now);
    // Drops requests past their expiry, and services nobody serves or waits for.
    void expire_requests(clock::time_point now);
    // After stop: replies still reach their clients, but no request goes to a worker.
    void stop_dispatching() noexcept { draining_ = true; }
    // Tells every worker to go, so that it registers again with the next broker at once.
    void disconnect_all();
    // In a Binary Star pair: client requests (MMI too) are served only as `gate` admits them.
    void hold_clients_to(client_gate* gate) noexcept { gate_ = gate; }
    // Requests are refused while `memory` is exhausted (it counts each refusal).
    void hold_to_budget(memory_budget* memory) noexcept { memory_ = memory; }

    std::vector<service_stats> table() const;
    const counters& counted() const noexcept { return counted_; }

  private:
    // Keys allowed per service name ("*": every service); empty: no restriction.
    using permissions = std::map<std::string, std::set<std::string, std::less<>>, std::less<>>;
    struct request {
        std::string client;
        message body;
        clock::time_point expires;
        std::size_t cost = 0;  // the memory it holds, counted against max_queued_bytes
    };
    struct service {
        std::deque<request> queue;
        std::deque<std::string> waiting;  // idle workers, longest idle first
        std::uint64_t workers = 0;
        std::uint64_t requests = 0;
        std::uint64_t replies = 0;
        std::uint64_t expired = 0;
        std::uint64_t rejected = 0;
    };
    struct worker {
        std::string service;
        clock::time_point expires;
        bool busy = false;     // holds a request: only then may it REPLY,
        std::string client{};  // and only to this client, the one the request came from
    };
    // Unexpected commands from one peer in the current second.
    struct strikes {
        clock::time_point window_ends;
        int count = 0;
    };
    struct departed {
        std::string service;
        std::string client;  // of the request it held, if it held one
        clock::time_point forget_at;
    };

    void send_command(const std::string& identity, mdp::command c);
    void malformed(const message& msg, const std::string& why);
    void on_client(message& msg);
    void answer_mmi(const message& msg);
    void on_worker(message& msg);
    void on_ready(const std::string& identity, const std::string& name, bool known);
    void on_reply(message& msg, bool known);
    void enrol(const std::string& identity, const std::string& name);
    void waiting(const std::string& identity);
    void dispatch(service& svc);
    // True when the memory budget is reached: a request must be refused (counted there).
    bool out_of_memory() const { return memory_ != nullptr && memory_->exhausted(); }
    // Why work was refused at the memory budget, for the log (the budget is set).
    std::string memory_reason() const;
    // Counts and logs a request refused for want of room: the queue limits or the memory
    // budget. `svc` is null when the service has no entry (none is made for a request refused
    // at once).
    void refuse(service* svc, const std::string& name, const std::string& client);
    // Adds `change` (negative: a request left the queue) to the bytes queued.
    void note_queued(std::int64_t change);
    // Why the broker will not take `name` as a new service, or "" when it will.
    std::string name_refusal(const std::string& name) const;
    void unexpected(const std::string& identity, const std::string& why);
    void disconnect(const std::string& identity);
    void forget(const std::string& identity);
    void purge_workers(clock::time_point now);
    // Whether the sender of the message at hand may serve (or call) `name`.
    bool permitted(const permissions& table, std::string_view name) const;

    service_config cfg_;
    milliseconds expiry_;
    traffic_counters& counts_;
    sender send_;
    client_gate* gate_ = nullptr;
    memory_budget* memory_ = nullptr;
    permissions may_serve_;
    permissions may_call_;
    std::string_view peer_key_;  // the sender of the message at hand
    bool draining_ = false;
    std::map<std::string, service, std::less<>> services_;
    std::unordered_map<std::string, worker> workers_;
    std::unordered_map<std::string, departed> departed_;
    std::unordered_map<std::string, strikes> strikes_;  // forgotten once their second is over
    counters counted_;
    rate_limited_log malformed_log_{"malformed messages"};
    rate_limited_log queue_log_{"refused requests"};
    rate_limited_log names_log_{"refused service names"};
    rate_limited_log unexpected_log_{"unexpected commands"};
    rate_limited_log permissions_log_{"refused by the service permissions"};
    std::size_t queued_bytes_ = 0;  // all services' waiting requests: their cost
};

}  // namespace zpat::broker::detail
