// The service broker: Majordomo MDP/0.1 with the MMI extension (ZeroMQ RFCs 7 and 8), clients
// and workers on one ROUTER endpoint.
//
// Each service has a queue of requests and a queue of idle workers; a request goes to the worker
// that has been idle longest. Every message from a worker proves it alive; the broker heartbeats
// every worker each interval and purges those silent for interval x liveness, busy or not (a busy
// worker must keep heartbeating, says the RFC). A worker purged while busy is remembered for one
// more expiry period, so that a late reply still reaches its client. Requests wait for a worker
// up to max_queue per service and request_expiry in time. Malformed messages are dropped and
// counted; a registered worker that sends one, or sends a valid command at the wrong time, is
// told DISCONNECT and forgotten.

#include <spdlog/spdlog.h>

#include <chrono>
#include <deque>
#include <limits>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "seam/registry.hpp"
#include "device.hpp"
#include "zmq_socket.hpp"
#include "zpat/core/error.hpp"
#include "zpat/majordomo.hpp"

namespace zpat::broker::detail {
namespace {

using clock = std::chrono::steady_clock;
using zpat::detail::zmq_socket;
namespace mdp = zpat::mdp;

// Frames after the ROUTER's identity: [0] identity, [1] "", [2] header, then the command.
constexpr std::size_t header_frame = 2;
constexpr int burst = 1000;

// ZeroMQ identities are binary (0x00 and a counter by default): show them as hex in logs.
std::string hex(std::string_view bytes) {
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string out;
    for (const char ch : bytes) {
        const auto c = static_cast<unsigned char>(ch);
        out += digits[c >> 4];
        out += digits[c & 0xF];
    }
    return out;
}

std::vector<endpoint> majordomo_endpoints(const service_config& cfg) {
    const std::string text = bind_by_default(cfg.endpoint);
    if (backend_name(text) != "zeromq") {
        throw unsupported_error("the service broker on '" + cfg.endpoint +
                                "' is not supported: Majordomo is a ZeroMQ protocol; use tcp://, "
                                "ipc:// or inproc://");
    }
    return zpat::detail::resolve(text, link::bind).endpoints;
}

std::size_t frame_ceiling(std::size_t max_size) {
    return max_size > std::numeric_limits<std::size_t>::max() / 2 ? max_size : max_size * 2;
}

class service_broker final : public device {
  public:
    service_broker(const service_config& cfg, std::size_t max_size)
        : cfg_(cfg),
          expiry_(cfg.heartbeat_interval * std::max(1, cfg.heartbeat_liveness)),
          socket_(zmq::socket_type::router, majordomo_endpoints(cfg),
                  options{.send_high_water_mark = cfg.high_water_mark,
                          .receive_high_water_mark = cfg.high_water_mark,
                          // libzmq cuts a connection whose frame exceeds its ceiling
                          // without saying why. The ceiling is twice our limit, so a message
                          // somewhat too large is received, then dropped, counted and logged
                          // here; a frame past twice the limit (a hostile length) still never
                          // gets its memory, and its connection is closed.
                          .max_message_size = frame_ceiling(max_size),
                          .send_timeout = milliseconds{0}}),
          max_size_(max_size) {
        socket_.limit_messages(max_size);
    }

    void run(const stop_token& stop) override {
        std::vector<zmq::pollitem_t> items{{socket_.socket().handle(), 0, ZMQ_POLLIN, 0},
                                           {nullptr, stop.fd(), ZMQ_POLLIN, 0}};
        clock::time_point heartbeat_at = clock::now() + cfg_.heartbeat_interval;
        clock::time_point tick_at = clock::now();
        message msg;
        while (!stop.requested()) {
            const auto wait =
                std::chrono::ceil<milliseconds>(std::min(heartbeat_at, tick_at) - clock::now());
            if (!zpat::detail::poll_interrupted(items, std::max(milliseconds{0}, wait))) {
                for (int i = 0; i < burst && socket_.receive(msg, milliseconds{0}); ++i) {
                    on_message(msg);
                }
                note_oversized();
            }
            const clock::time_point now = clock::now();
            if (now >= heartbeat_at) {
                purge_workers(now);
                for (const auto& [identity, w] : workers_) {
                    send_command(identity, mdp::command::heartbeat);
                }
                heartbeat_at = now + cfg_.heartbeat_interval;
            }
            if (now >= tick_at) {
                expire_requests(now);
                publish_tables();
                tick_at = now + tick;
            }
        }
        drain();
        publish_tables();
    }

    void report(stats& into) const override {
        into.service = service_broker_stats{counts_.snapshot(),      services_table_.read(),
                                            workers_expired_.get(),  disconnects_sent_.get(),
                                            mmi_requests_.get(),     requests_expired_.get(),
                                            requests_rejected_.get()};
    }
    std::vector<std::string> frontend() const override { return socket_.endpoints(); }

  private:
    struct request {
        std::string client;
        message body;
        clock::time_point expires;
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
    };
    struct departed {
        std::string service;
        clock::time_point forget_at;
    };

    void send(const message& msg) {
        if (socket_.send(msg)) {
            counts_.messages_out.add();
            counts_.bytes_out.add(msg.byte_size());
        } else {
            counts_.dropped_full.add();  // that peer's queue is full; ROUTER drops for it alone
        }
    }

    void send_command(const std::string& identity, mdp::command c) {
        send(message{identity, "", mdp::worker_header, mdp::frame_of(c)});
    }

    // The socket drops messages over max_message_size as it receives them; count and log them.
    void note_oversized() {
        const std::uint64_t dropped = socket_.oversized_dropped();
        if (dropped != counts_.dropped_oversized.get()) {
            oversized_log_.warn(
                "dropped " + std::to_string(dropped - counts_.dropped_oversized.get()) +
                " message(s) over max-message-size (" + std::to_string(max_size_) + " bytes)");
            counts_.dropped_oversized.set(dropped);
        }
    }

    void malformed(const message& msg, const std::string& why) {
        counts_.dropped_malformed.add();
        malformed_log_.warn("dropped a message from peer " + hex(msg[0]) + ": " + why);
        if (workers_.contains(msg[0])) {
            disconnect(msg[0]);
        }
    }

    void on_message(message& msg) {
        counts_.messages_in.add();
        counts_.bytes_in.add(msg.byte_size());
        if (msg.size() <= header_frame || !msg[1].empty()) {
            malformed(msg, "no empty delimiter frame before the protocol header");
        } else if (msg[header_frame] == mdp::client_header) {
            on_client(msg);
        } else if (msg[header_frame] == mdp::worker_header) {
            on_worker(msg);
        } else {
            malformed(msg, "unknown protocol header (neither MDPC01 nor MDPW01)");
        }
    }

    // [identity] [""] ["MDPC01"] [service] [body...]
    void on_client(message& msg) {
        if (draining_) {
            return;
        }
        if (msg.size() < 4) {
            malformed(msg, "client request without a service name");
            return;
        }
        const std::string& name = msg[3];
        if (name.starts_with(mdp::mmi_prefix)) {
            answer_mmi(msg);
            return;
        }
        service& svc = services_[name];
        ++svc.requests;
        if (svc.queue.size() >= cfg_.max_queue) {
            ++svc.rejected;
            requests_rejected_.add();
            queue_log_.warn("service '" + name + "' has " + std::to_string(svc.queue.size()) +
                            " requests waiting: refused one from " + hex(msg[0]));
            return;
        }
        request req{std::move(msg[0]), {}, clock::now() + cfg_.request_expiry};
        for (std::size_t i = 4; i < msg.size(); ++i) {
            req.body.push_back(std::move(msg[i]));
        }
        svc.queue.push_back(std::move(req));
        dispatch(svc);
    }

    void answer_mmi(const message& msg) {
        mmi_requests_.add();
        const std::string& name = msg[3];
        std::string_view code = mdp::mmi_not_implemented;
        if (name == mdp::mmi_service) {
            const auto it = msg.size() > 4 ? services_.find(msg[4]) : services_.end();
            code = it != services_.end() && it->second.workers > 0 ? mdp::mmi_found
                                                                   : mdp::mmi_not_found;
        }
        send(message{msg[0], "", mdp::client_header, name, code});
    }

    // [identity] [""] ["MDPW01"] [command] ...
    void on_worker(message& msg) {
        if (msg.size() < 4 || msg[3].size() != 1) {
            malformed(msg, "worker message without a one-byte command");
            return;
        }
        const std::string& identity = msg[0];
        const auto known = workers_.find(identity);
        if (known != workers_.end()) {
            known->second.expires = clock::now() + expiry_;  // any command is a heartbeat
        }
        switch (static_cast<mdp::command>(msg[3][0])) {
            case mdp::command::ready:
                if (msg.size() != 5) {
                    malformed(msg, "READY without exactly one service name");
                } else if (known != workers_.end()) {
                    unexpected(identity, "READY from a worker already registered");
                } else if (msg[4].empty() || msg[4].starts_with(mdp::mmi_prefix)) {
                    unexpected(identity, "READY for '" + msg[4] +
                                             "': mmi.* and empty names belong to the broker");
                } else {
                    enrol(identity, msg[4]);
                }
                return;
            case mdp::command::reply:
                if (msg.size() < 6 || !msg[5].empty()) {
                    malformed(msg, "REPLY without a client address and an empty frame");
                } else {
                    on_reply(msg, known != workers_.end());
                }
                return;
            case mdp::command::heartbeat:
                if (known == workers_.end()) {
                    unexpected(identity, "HEARTBEAT from a worker that is not registered");
                }
                return;
            case mdp::command::disconnect:
                if (known != workers_.end()) {
                    spdlog::info("service broker: worker {} for '{}' left", hex(identity),
                                 known->second.service);
                    forget(identity);
                }
                return;
            case mdp::command::request:
                unexpected(identity, "REQUEST sent by a worker");
                return;
        }
        malformed(msg, "unknown worker command " + std::to_string(msg[3][0]));
    }

    // [identity] [""] ["MDPW01"] [0x03] [client] [""] [body...]
    void on_reply(message& msg, bool known) {
        const std::string identity = msg[0];
        std::string name;
        if (known) {
            name = workers_[identity].service;
        } else if (const auto gone = departed_.find(identity); gone != departed_.end()) {
            name = gone->second.service;  // purged while busy: the reply still counts
        } else {
            unexpected(identity, "REPLY from a worker that is not registered");
            return;
        }
        message to_client{msg[4], "", mdp::client_header, name};
        for (std::size_t i = 6; i < msg.size(); ++i) {
            to_client.push_back(std::move(msg[i]));
        }
        send(to_client);
        if (auto it = services_.find(name); it != services_.end()) {
            ++it->second.replies;
        }
        if (known) {
            waiting(identity);
        } else {
            departed_.erase(identity);
            disconnect(identity);  // register again, please
        }
    }

    void enrol(const std::string& identity, const std::string& name) {
        workers_[identity] = worker{name, clock::now() + expiry_};
        departed_.erase(identity);
        ++services_[name].workers;
        spdlog::info("service broker: worker {} ready for '{}'", hex(identity), name);
        waiting(identity);
    }

    void waiting(const std::string& identity) {
        service& svc = services_[workers_[identity].service];
        svc.waiting.push_back(identity);
        dispatch(svc);
    }

    void dispatch(service& svc) {
        if (draining_) {
            return;
        }
        while (!svc.queue.empty() && !svc.waiting.empty()) {
            request& req = svc.queue.front();
            message to_worker{svc.waiting.front(), "",
                              mdp::worker_header,  mdp::frame_of(mdp::command::request),
                              req.client,          ""};
            for (std::size_t i = 0; i < req.body.size(); ++i) {
                to_worker.push_back(std::move(req.body[i]));
            }
            svc.waiting.pop_front();
            svc.queue.pop_front();
            send(to_worker);
        }
    }

    void unexpected(const std::string& identity, const std::string& why) {
        spdlog::info("service broker: disconnecting peer {}: {}", hex(identity), why);
        disconnect(identity);
    }

    // Counted before it is sent, so that whoever sees the DISCONNECT also sees the count.
    void disconnect(const std::string& identity) {
        forget(identity);
        disconnects_sent_.add();
        send_command(identity, mdp::command::disconnect);
    }

    void forget(const std::string& identity) {
        const auto it = workers_.find(identity);
        if (it == workers_.end()) {
            return;
        }
        service& svc = services_[it->second.service];
        std::erase(svc.waiting, identity);
        --svc.workers;
        workers_.erase(it);
    }

    void purge_workers(clock::time_point now) {
        std::erase_if(departed_, [now](const auto& entry) { return entry.second.forget_at < now; });
        std::vector<std::string> dead;
        for (const auto& [identity, w] : workers_) {
            if (w.expires < now) {
                dead.push_back(identity);
            }
        }
        for (const std::string& identity : dead) {
            const std::string name = workers_[identity].service;
            spdlog::info("service broker: worker {} for '{}' expired (silent for {} ms)",
                         hex(identity), name, expiry_.count());
            departed_[identity] = departed{name, now + expiry_};
            forget(identity);
            workers_expired_.add();
        }
    }

    void expire_requests(clock::time_point now) {
        for (auto it = services_.begin(); it != services_.end();) {
            service& svc = it->second;
            while (!svc.queue.empty() && svc.queue.front().expires < now) {
                svc.queue.pop_front();
                ++svc.expired;
                requests_expired_.add();
            }
            // A service nobody serves and nobody waits for is forgotten, so that clients asking
            // for made-up names cannot grow the table without bound.
            if (svc.workers == 0 && svc.queue.empty()) {
                it = services_.erase(it);
            } else {
                ++it;
            }
        }
    }

    void publish_tables() {
        std::vector<service_stats> table;
        for (const auto& [name, svc] : services_) {
            table.push_back({name, svc.workers, svc.waiting.size(), svc.queue.size(), svc.requests,
                             svc.replies, svc.expired, svc.rejected});
        }
        services_table_.publish(std::move(table));
    }

    // After stop: replies that workers already sent still go to their clients; then every
    // worker is told to go, so that it registers again with the next broker at once.
    void drain() {
        draining_ = true;
        message msg;
        while (socket_.receive(msg, milliseconds{0})) {
            on_message(msg);
        }
        for (const auto& [identity, w] : workers_) {
            send_command(identity, mdp::command::disconnect);
        }
    }

    service_config cfg_;
    milliseconds expiry_;
    zmq_socket socket_;
    std::size_t max_size_;
    bool draining_ = false;
    std::map<std::string, service, std::less<>> services_;
    std::unordered_map<std::string, worker> workers_;
    std::unordered_map<std::string, departed> departed_;
    traffic_counters counts_;
    counter workers_expired_;
    counter disconnects_sent_;
    counter mmi_requests_;
    counter requests_expired_;
    counter requests_rejected_;
    published<std::vector<service_stats>> services_table_;
    rate_limited_log malformed_log_{"malformed messages"};
    rate_limited_log queue_log_{"refused requests"};
    rate_limited_log oversized_log_{"oversized messages"};
};

}  // namespace

std::unique_ptr<device> make_service_broker(const service_config& cfg, std::size_t max_size) {
    return std::make_unique<service_broker>(cfg, max_size);
}

}  // namespace zpat::broker::detail
