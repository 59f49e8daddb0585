#include "majordomo_broker.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>

namespace zpat::broker::detail {
namespace {

namespace mdp = zpat::mdp;

// Frames after the ROUTER's identity: [0] identity, [1] "", [2] header, then the command.
constexpr std::size_t header_frame = 2;

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

template <class Table>
auto as_sets(const Table& lists) {
    std::map<std::string, std::set<std::string, std::less<>>, std::less<>> sets;
    for (const auto& [name, keys] : lists) {
        sets[name].insert(keys.begin(), keys.end());
    }
    return sets;
}

}  // namespace

majordomo_broker::majordomo_broker(const service_config& cfg, traffic_counters& counts, sender send)
    : cfg_(cfg),
      expiry_(cfg.heartbeat_interval * std::max(1, cfg.heartbeat_liveness)),
      counts_(counts),
      send_(std::move(send)),
      may_serve_(as_sets(cfg.workers_allowed)),
      may_call_(as_sets(cfg.callers_allowed)) {}

bool majordomo_broker::permitted(const permissions& table, std::string_view name) const {
    if (table.empty()) {
        return true;
    }
    return std::ranges::any_of(std::array<std::string_view, 2>{name, "*"}, [&](auto entry) {
        const auto found = table.find(entry);
        return found != table.end() && found->second.contains(peer_key_);
    });
}

void majordomo_broker::heartbeat(clock::time_point now) {
    purge_workers(now);
    for (const auto& [identity, w] : workers_) {
        send_command(identity, mdp::command::heartbeat);
    }
}

void majordomo_broker::disconnect_all() {
    for (const auto& [identity, w] : workers_) {
        send_command(identity, mdp::command::disconnect);
    }
}

void majordomo_broker::send_command(const std::string& identity, mdp::command c) {
    send_(message{identity, "", mdp::worker_header, mdp::frame_of(c)});
}

void majordomo_broker::malformed(const message& msg, const std::string& why) {
    counts_.dropped_malformed.add();
    malformed_log_.warn("dropped a message from peer " + hex(msg[0]) + ": " + why);
    if (workers_.contains(msg[0])) {
        disconnect(msg[0]);
    }
}

void majordomo_broker::on_message(message& msg, std::string_view peer_key) {
    peer_key_ = peer_key;
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
void majordomo_broker::on_client(message& msg) {
    if (draining_) {
        return;
    }
    if (msg.size() < 4) {
        malformed(msg, "client request without a service name");
        return;
    }
    if (!admit(gate_)) {
        return;  // the passive broker of a pair: the client retries with the other
    }
    const std::string& name = msg[3];
    if (name.starts_with(mdp::mmi_prefix)) {
        answer_mmi(msg);
        return;
    }
    if (!permitted(may_call_, name)) {
        counted_.calls_refused.add();
        permissions_log_.warn("dropped a request for '" + name + "' from " + hex(msg[0]) +
                              ": its key may not call that service");
        return;
    }
    // What the request will hold while it waits: its bytes, and the strings and bookkeeping
    // around them, so that many empty requests are bounded too.
    const std::size_t cost = sizeof(request) + msg[0].size() + name.size() +
                             (msg.byte_size() - msg[0].size() - msg[3].size()) +
                             msg.size() * sizeof(std::string);
    const auto known = services_.find(name);
    if (known == services_.end()) {
        if (const std::string why = name_refusal(name); !why.empty()) {
            counted_.names_refused.add();
            names_log_.warn("refused a request from " + hex(msg[0]) + ": " + why);
            return;
        }
    }
    const bool over_budget = queued_bytes_ + cost > cfg_.max_queued_bytes;
    if (known == services_.end() && (over_budget || out_of_memory())) {
        refuse(nullptr, name, msg[0]);  // no entry made for a service refused at once
        return;
    }
    service& svc = known != services_.end() ? known->second : services_[name];
    ++svc.requests;
    if (over_budget || (cfg_.max_queue > 0 && svc.queue.size() >= cfg_.max_queue) ||
        out_of_memory()) {
        refuse(&svc, name, msg[0]);
        return;
    }
    request req{std::move(msg[0]), {}, clock::now() + cfg_.request_expiry, cost};
    for (std::size_t i = 4; i < msg.size(); ++i) {
        req.body.push_back(std::move(msg[i]));
    }
    svc.queue.push_back(std::move(req));
    note_queued(static_cast<std::int64_t>(cost));
    dispatch(svc);
}

void majordomo_broker::refuse(service* svc, const std::string& name, const std::string& client) {
    if (svc != nullptr) {
        ++svc->rejected;
    }
    counted_.requests_rejected.add();
    std::string why;
    if (svc != nullptr && cfg_.max_queue > 0 && svc->queue.size() >= cfg_.max_queue) {
        why = std::to_string(svc->queue.size()) + " requests wait for it (max-queue)";
    } else if (queued_bytes_ < cfg_.max_queued_bytes && memory_ != nullptr &&
               memory_->limit() != 0) {
        why = memory_reason();
    } else {
        why = std::to_string(queued_bytes_) + " bytes of requests wait (max-queued-bytes " +
              std::to_string(cfg_.max_queued_bytes) + ")";
    }
    queue_log_.warn("refused a request for '" + name + "' from " + hex(client) + ": " + why + "; " +
                    std::to_string(counted_.requests_rejected.get()) + " refused in all");
}

std::string majordomo_broker::memory_reason() const {
    return "the broker holds " + std::to_string(memory_->in_use()) +
           " bytes of memory (max-memory " + std::to_string(memory_->limit()) + ")";
}

void majordomo_broker::note_queued(std::int64_t change) {
    queued_bytes_ = static_cast<std::size_t>(static_cast<std::int64_t>(queued_bytes_) + change);
    counted_.queued_bytes.set(queued_bytes_);
}

void majordomo_broker::answer_mmi(const message& msg) {
    counted_.mmi_requests.add();
    const std::string& name = msg[3];
    std::string_view code = mdp::mmi_not_implemented;
    if (name == mdp::mmi_service) {
        const auto it = msg.size() > 4 ? services_.find(msg[4]) : services_.end();
        code =
            it != services_.end() && it->second.workers > 0 ? mdp::mmi_found : mdp::mmi_not_found;
    }
    send_(message{msg[0], "", mdp::client_header, name, code});
}

// [identity] [""] ["MDPW01"] [command] ...
void majordomo_broker::on_worker(message& msg) {
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
            } else {
                on_ready(identity, msg[4], known != workers_.end());
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

// [identity] [""] ["MDPW01"] [0x01] [service]; `known`: the worker is registered already.
void majordomo_broker::on_ready(const std::string& identity, const std::string& name, bool known) {
    const bool new_service = !services_.contains(name);
    if (known) {
        unexpected(identity, "READY from a worker already registered");
    } else if (name.empty() || name.starts_with(mdp::mmi_prefix)) {
        unexpected(identity,
                   "READY for '" + name + "': mmi.* and empty names belong to the broker");
    } else if (const std::string why = new_service ? name_refusal(name) : ""; !why.empty()) {
        counted_.names_refused.add();
        unexpected(identity, "READY refused: " + why);
    } else if (new_service && out_of_memory()) {
        // A new service is new work: at the budget it is refused as a request for one is. A
        // worker for a known service is taken, since it drains what waits.
        names_log_.warn("refused worker " + hex(identity) + " for the new service '" + name +
                        "': " + memory_reason());
        send_command(identity, mdp::command::disconnect);
        counted_.disconnects_sent.add();
    } else if (!permitted(may_serve_, name)) {
        counted_.workers_refused.add();
        permissions_log_.warn("refused worker " + hex(identity) + " for '" + name +
                              "': its key may not serve that service");
        send_command(identity, mdp::command::disconnect);
        counted_.disconnects_sent.add();
    } else {
        enrol(identity, name);
    }
}

// [identity] [""] ["MDPW01"] [0x03] [client] [""] [body...]
void majordomo_broker::on_reply(message& msg, bool known) {
    const std::string identity = msg[0];
    std::string name;
    if (known) {
        worker& w = workers_[identity];
        if (!w.busy) {
            unexpected(identity, "REPLY from a worker that holds no request");
            return;
        }
        if (msg[4] != w.client) {
            unexpected(identity, "REPLY addressed to a client whose request it was not given");
            return;
        }
        w.busy = false;
        name = w.service;
    } else if (const auto gone = departed_.find(identity); gone != departed_.end() &&
                                                           !gone->second.client.empty() &&
                                                           gone->second.client == msg[4]) {
        name = gone->second.service;  // purged while busy: the reply still counts
    } else {
        unexpected(identity, "REPLY from a worker that is not registered");
        return;
    }
    message to_client{msg[4], "", mdp::client_header, name};
    for (std::size_t i = 6; i < msg.size(); ++i) {
        to_client.push_back(std::move(msg[i]));
    }
    send_(to_client);
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

void majordomo_broker::enrol(const std::string& identity, const std::string& name) {
    workers_[identity] = worker{name, clock::now() + expiry_};
    departed_.erase(identity);
    ++services_[name].workers;
    spdlog::info("service broker: worker {} ready for '{}'", hex(identity), name);
    waiting(identity);
}

void majordomo_broker::waiting(const std::string& identity) {
    service& svc = services_[workers_[identity].service];
    svc.waiting.push_back(identity);
    dispatch(svc);
}

void majordomo_broker::dispatch(service& svc) {
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
        worker& given = workers_[svc.waiting.front()];
        given.busy = true;
        given.client = req.client;
        svc.waiting.pop_front();
        note_queued(-static_cast<std::int64_t>(req.cost));
        svc.queue.pop_front();
        send_(to_worker);
    }
}

std::string majordomo_broker::name_refusal(const std::string& name) const {
    if (name.size() > cfg_.max_service_name) {
        return "a service name of " + std::to_string(name.size()) +
               " bytes is over max-service-name (" + std::to_string(cfg_.max_service_name) + ")";
    }
    if (services_.size() >= cfg_.max_services) {
        return "a new service '" + name + "' while " + std::to_string(services_.size()) +
               " are known is over max-services (" + std::to_string(cfg_.max_services) + ")";
    }
    return "";
}

void majordomo_broker::unexpected(const std::string& identity, const std::string& why) {
    const clock::time_point now = clock::now();
    strikes& peer = strikes_[identity];
    if (now >= peer.window_ends) {
        peer = strikes{now + std::chrono::seconds{1}, 0};
    }
    if (++peer.count > cfg_.max_unexpected_per_second) {
        forget(identity);
        counted_.unexpected_dropped.add();
        return;
    }
    unexpected_log_.warn("disconnecting peer " + hex(identity) + ": " + why);
    disconnect(identity);
}

// Counted before it is sent, so that whoever sees the DISCONNECT also sees the count.
void majordomo_broker::disconnect(const std::string& identity) {
    forget(identity);
    counted_.disconnects_sent.add();
    send_command(identity, mdp::command::disconnect);
}

void majordomo_broker::forget(const std::string& identity) {
    const auto it = workers_.find(identity);
    if (it == workers_.end()) {
        return;
    }
    service& svc = services_[it->second.service];
    std::erase(svc.waiting, identity);
    --svc.workers;
    workers_.erase(it);
}

void majordomo_broker::purge_workers(clock::time_point now) {
    std::erase_if(departed_, [now](const auto& entry) { return entry.second.forget_at < now; });
    std::erase_if(strikes_, [now](const auto& entry) { return entry.second.window_ends < now; });
    std::vector<std::string> dead;
    for (const auto& [identity, w] : workers_) {
        if (w.expires < now) {
            dead.push_back(identity);
        }
    }
    for (const std::string& identity : dead) {
        const std::string name = workers_[identity].service;
        spdlog::info("service broker: worker {} for '{}' expired (silent for {} ms)", hex(identity),
                     name, expiry_.count());
        const worker& w = workers_[identity];
        departed_[identity] = departed{name, w.busy ? w.client : "", now + expiry_};
        forget(identity);
        counted_.workers_expired.add();
    }
}

void majordomo_broker::expire_requests(clock::time_point now) {
    for (auto it = services_.begin(); it != services_.end();) {
        service& svc = it->second;
        while (!svc.queue.empty() && svc.queue.front().expires < now) {
            note_queued(-static_cast<std::int64_t>(svc.queue.front().cost));
            svc.queue.pop_front();
            ++svc.expired;
            counted_.requests_expired.add();
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

std::vector<service_stats> majordomo_broker::table() const {
    std::vector<service_stats> table;
    for (const auto& [name, svc] : services_) {
        table.push_back({name, svc.workers, svc.waiting.size(), svc.queue.size(), svc.requests,
                         svc.replies, svc.expired, svc.rejected});
    }
    return table;
}

}  // namespace zpat::broker::detail
