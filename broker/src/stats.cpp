// The broker's counters as JSON (for `zpat stats` and the HTTP endpoint) and in the Prometheus
// text exposition format.

#include <concepts>
#include <nlohmann/json.hpp>
#include <string>

#include "zpat/broker/broker.hpp"
#include "zpat/version.hpp"

namespace zpat::broker {
namespace {

using nlohmann::json;

json connections_json(const connection_counts& c) {
    return json{{"opened", c.opened},
                {"closed", c.closed},
                {"refused", c.refused},
                {"malformed", c.malformed},
                {"handshake_timeouts", c.handshake_timeouts},
                {"partial_timeouts", c.partial_timeouts},
                {"idle_timeouts", c.idle_timeouts},
                {"over_limits", c.over_limits}};
}

json traffic_json(const traffic& t) {
    return json{{"messages_in", t.messages_in},
                {"bytes_in", t.bytes_in},
                {"messages_out", t.messages_out},
                {"bytes_out", t.bytes_out},
                {"dropped_full", t.dropped_full},
                {"dropped_oversized", t.dropped_oversized},
                {"dropped_malformed", t.dropped_malformed},
                {"connections",
                 {{"frontend", connections_json(t.frontend_connections)},
                  {"backend", connections_json(t.backend_connections)}}}};
}

json queue_json(const queue_stats& q) {
    return json{{"traffic", traffic_json(q.counts)},
                {"requests", q.requests},
                {"replies", q.replies},
                {"unroutable", q.unroutable}};
}

// Prometheus label values escape backslash, quote and newline.
std::string label(std::string_view value) {
    std::string out;
    for (char c : value) {
        if (c == '\\' || c == '"') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

class prometheus_text {
  public:
    void metric(std::string_view name, std::string_view type, std::string_view help) {
        text_ += "# HELP zpat_broker_" + std::string(name) + " " + std::string(help) + "\n";
        text_ += "# TYPE zpat_broker_" + std::string(name) + " " + std::string(type) + "\n";
    }
    template <std::integral Value>
    void sample(std::string_view name, std::string_view labels, Value value) {
        text_ += "zpat_broker_" + std::string(name);
        if (!labels.empty()) {
            text_ += "{" + std::string(labels) + "}";
        }
        text_ += " " + std::to_string(value) + "\n";
    }
    std::string take() { return std::move(text_); }

  private:
    std::string text_;
};

using device_traffic = std::vector<std::pair<std::string, traffic>>;

// Each side's connections: opened and closed, and the closes for a reason by that reason.
void connection_samples(prometheus_text& out, const device_traffic& devices) {
    const auto each_side = [&](std::string_view name, const auto& value) {
        for (const auto& [device, t] : devices) {
            for (const auto& [side, counts] : {std::pair{"frontend", &t.frontend_connections},
                                               std::pair{"backend", &t.backend_connections}}) {
                const std::string labels =
                    "device=\"" + device + "\",side=\"" + std::string(side) + "\"";
                value(name, labels, *counts);
            }
        }
    };
    out.metric("connections_opened_total", "counter", "Connections a device's side took up.");
    each_side("connections_opened_total", [&](auto name, const auto& labels, const auto& c) {
        out.sample(name, labels, c.opened);
    });
    out.metric("connections_closed_total", "counter", "Connections of a device's side that ended.");
    each_side("connections_closed_total", [&](auto name, const auto& labels, const auto& c) {
        out.sample(name, labels, c.closed);
    });
    out.metric("connections_dropped_total", "counter",
               "Connections a device's side closed for a reason, by reason.");
    each_side("connections_dropped_total", [&](auto name, const auto& labels, const auto& c) {
        for (const auto& [reason, n] :
             {std::pair{"refused", c.refused}, std::pair{"malformed", c.malformed},
              std::pair{"handshake_timeout", c.handshake_timeouts},
              std::pair{"partial_timeout", c.partial_timeouts},
              std::pair{"idle_timeout", c.idle_timeouts}, std::pair{"over_limit", c.over_limits}}) {
            out.sample(name, labels + ",reason=\"" + reason + "\"", n);
        }
    });
}

// The traffic of every device, one metric family at a time (the format wants them grouped).
void traffic_samples(prometheus_text& out, const stats& s) {
    device_traffic devices;
    if (s.forwarder) {
        devices.emplace_back("forwarder", s.forwarder->counts);
    }
    if (s.streamer) {
        devices.emplace_back("streamer", *s.streamer);
    }
    if (s.service) {
        devices.emplace_back("service", s.service->counts);
    }
    if (s.queue) {
        devices.emplace_back("queue", s.queue->counts);
    }
    if (s.pirate) {
        devices.emplace_back("pirate", s.pirate->passed.counts);
    }
    const auto family =
        [&](std::string_view name, std::string_view help,
            std::initializer_list<std::pair<std::string_view, std::uint64_t traffic::*>> samples) {
            out.metric(name, "counter", help);
            for (const auto& [device, t] : devices) {
                for (const auto& [labels, field] : samples) {
                    out.sample(name, "device=\"" + device + "\"," + std::string(labels), t.*field);
                }
            }
        };
    family("messages_total", "Messages through a device.",
           {{"direction=\"in\"", &traffic::messages_in},
            {"direction=\"out\"", &traffic::messages_out}});
    family("bytes_total", "Bytes through a device.",
           {{"direction=\"in\"", &traffic::bytes_in}, {"direction=\"out\"", &traffic::bytes_out}});
    family("dropped_total", "Messages a device dropped, by reason.",
           {{"reason=\"full\"", &traffic::dropped_full},
            {"reason=\"oversized\"", &traffic::dropped_oversized},
            {"reason=\"malformed\"", &traffic::dropped_malformed}});
    connection_samples(out, devices);
}

void forwarder_samples(prometheus_text& out, const forwarder_stats& f) {
    out.metric("topic_subscriptions", "gauge", "Subscribers holding a topic prefix.");
    for (const topic_stats& t : f.topics) {
        out.sample("topic_subscriptions", "prefix=\"" + label(t.prefix) + "\"", t.subscriptions);
    }
    out.metric("topic_messages_total", "counter", "Messages forwarded matching a prefix.");
    for (const topic_stats& t : f.topics) {
        out.sample("topic_messages_total", "prefix=\"" + label(t.prefix) + "\"", t.messages);
    }
    out.metric("cached_topics", "gauge", "Topics held by the last-value cache.");
    out.sample("cached_topics", "", f.cached_topics);
    out.metric("cached_bytes", "gauge", "Bytes of topics and messages in the last-value cache.");
    out.sample("cached_bytes", "", f.cached_bytes);
    out.metric("uncached_total", "counter",
               "Messages the last-value cache could not keep (max-cached-bytes, 65536 topics).");
    out.sample("uncached_total", "", f.uncached);
    out.metric("upstream_dropped_total", "counter",
               "Subscriptions a publisher lost at its high-water mark (one that does not read).");
    out.sample("upstream_dropped_total", "", f.upstream_dropped);
}

void service_samples(prometheus_text& out, const service_broker_stats& v) {
    const auto family = [&](std::string_view name, std::string_view type, std::string_view help,
                            std::uint64_t service_stats::*field) {
        out.metric(name, type, help);
        for (const service_stats& one : v.services) {
            out.sample(name, "service=\"" + label(one.name) + "\"", one.*field);
        }
    };
    family("service_workers", "gauge", "Workers registered for a service.",
           &service_stats::workers);
    family("service_waiting_workers", "gauge", "Workers of a service idle now.",
           &service_stats::waiting_workers);
    family("service_queued", "gauge", "Requests waiting for a worker.", &service_stats::queued);
    family("service_requests_total", "counter", "Requests received for a service.",
           &service_stats::requests);
    family("service_replies_total", "counter", "Replies sent for a service.",
           &service_stats::replies);
    family("service_expired_total", "counter", "Requests expired in the queue.",
           &service_stats::expired);
    family("service_rejected_total", "counter", "Requests refused with the queue full.",
           &service_stats::rejected);
    const auto total = [&](std::string_view name, std::string_view type, std::string_view help,
                           std::uint64_t value) {
        out.metric(name, type, help);
        out.sample(name, "", value);
    };
    total("workers_expired_total", "counter", "Workers purged after going silent.",
          v.workers_expired);
    total("disconnects_sent_total", "counter", "DISCONNECTs sent for an unexpected command.",
          v.disconnects_sent);
    total("mmi_requests_total", "counter", "MMI requests answered by the broker.", v.mmi_requests);
    total("requests_expired_total", "counter",
          "Requests expired in a queue, all services, forgotten ones too.", v.requests_expired);
    total("requests_rejected_total", "counter",
          "Requests refused at max-queued-bytes or max-queue.", v.requests_rejected);
    total("queued_bytes", "gauge", "Memory held by requests waiting for workers.", v.queued_bytes);
    total("names_refused_total", "counter",
          "Requests and READYs refused at max-service-name or max-services.", v.names_refused);
    total("unexpected_dropped_total", "counter",
          "Unexpected commands past max-unexpected-per-second, dropped unanswered.",
          v.unexpected_dropped);
    total("workers_refused_total", "counter",
          "READYs for a service the worker's CURVE key may not serve.", v.workers_refused);
    total("calls_refused_total", "counter",
          "Requests for a service the client's CURVE key may not call.", v.calls_refused);
}

// The request-reply queues' own counters, one family each, labelled by device.
void queue_samples(prometheus_text& out, const stats& s) {
    std::vector<std::pair<std::string, const queue_stats*>> queues;
    if (s.queue) {
        queues.emplace_back("queue", &*s.queue);
    }
    if (s.pirate) {
        queues.emplace_back("pirate", &s.pirate->passed);
    }
    if (queues.empty()) {
        return;
    }
    const auto family = [&](std::string_view name, std::string_view help,
                            std::uint64_t queue_stats::*field) {
        out.metric(name, "counter", help);
        for (const auto& [device, q] : queues) {
            out.sample(name, "device=\"" + device + "\"", q->*field);
        }
    };
    family("queue_requests_total", "Requests a queue passed from clients to workers.",
           &queue_stats::requests);
    family("queue_replies_total", "Replies a queue passed from workers to clients.",
           &queue_stats::replies);
    family("queue_unroutable_total", "Replies a queue dropped: their client was gone.",
           &queue_stats::unroutable);
    if (s.pirate) {
        out.metric("pirate_workers_ready", "gauge", "Idle workers of the pirate queue.");
        out.sample("pirate_workers_ready", "", s.pirate->workers_ready);
        out.metric("pirate_workers_expired_total", "counter",
                   "Pirate workers forgotten after going silent.");
        out.sample("pirate_workers_expired_total", "", s.pirate->workers_expired);
        out.metric("pirate_heartbeats_sent_total", "counter",
                   "Heartbeats the pirate queue sent to idle workers.");
        out.sample("pirate_heartbeats_sent_total", "", s.pirate->heartbeats_sent);
    }
}

json pair_json(const pair_stats& p) {
    return json{{"role", p.role},
                {"state", p.state},
                {"peer_state", p.peer_state},
                {"peer_silent_ms", p.peer_silent_ms},
                {"became_active", p.became_active},
                {"requests_admitted", p.requests_admitted},
                {"requests_refused", p.requests_refused},
                {"state_messages", p.state_messages},
                {"malformed_states", p.malformed_states},
                {"split_brains", p.split_brains}};
}

// A Binary Star pair: this broker's state as a labelled gauge (1 for the state it is in), and
// its counters.
void pair_samples(prometheus_text& out, const pair_stats& p) {
    out.metric("pair_state", "gauge",
               "1 for the state this broker of a Binary Star pair is in, 0 for the others.");
    for (const char* state : {"primary", "backup", "active", "passive"}) {
        out.sample("pair_state", "role=\"" + p.role + "\",state=\"" + state + "\"",
                   p.state == state ? 1 : 0);
    }
    out.metric("pair_peer_silent_milliseconds", "gauge",
               "Since the peer's state was last heard; -1 before it ever was.");
    out.sample("pair_peer_silent_milliseconds", "", p.peer_silent_ms);
    const auto total = [&](const std::string& name, std::string_view help, std::uint64_t v) {
        out.metric("pair_" + name, "counter", help);
        out.sample("pair_" + name, "", v);
    };
    total("became_active_total", "Times this broker took over serving clients.", p.became_active);
    total("requests_admitted_total", "Client requests served by the pair's rule.",
          p.requests_admitted);
    total("requests_refused_total", "Client requests dropped while not the active broker.",
          p.requests_refused);
    total("state_messages_total", "State messages heard from the peer.", p.state_messages);
    total("malformed_states_total", "Messages from the peer that were not a state, ignored.",
          p.malformed_states);
    total("split_brains_total", "Both brokers active, or both passive, seen and settled.",
          p.split_brains);
}

json forwarder_json(const forwarder_stats& f) {
    json topics = json::array();
    for (const topic_stats& t : f.topics) {
        topics.push_back(
            {{"prefix", t.prefix}, {"subscriptions", t.subscriptions}, {"messages", t.messages}});
    }
    return {{"traffic", traffic_json(f.counts)},
            {"topics", topics},
            {"cached_topics", f.cached_topics},
            {"cached_bytes", f.cached_bytes},
            {"uncached", f.uncached},
            {"upstream_dropped", f.upstream_dropped}};
}

// The memory budget: what the process holds against it, and the work refused at it.
void memory_samples(prometheus_text& out, const memory_stats& m) {
    out.metric("memory_bytes", "gauge", "Memory the process holds, as the budget reads it.");
    out.sample("memory_bytes", "", m.in_use);
    out.metric("memory_limit_bytes", "gauge", "The memory budget (max-memory).");
    out.sample("memory_limit_bytes", "", m.limit);
    out.metric("memory_refusals_total", "counter",
               "Work refused because the process held its memory budget.");
    out.sample("memory_refusals_total", "", m.refusals);
}

}  // namespace

std::string to_json(const stats& s) {
    json out = json::object();
    out["version"] = std::string(zpat::version());
    if (s.forwarder) {
        out["forwarder"] = forwarder_json(*s.forwarder);
    }
    if (s.streamer) {
        out["streamer"] = {{"traffic", traffic_json(*s.streamer)}};
    }
    if (s.service) {
        json services = json::array();
        for (const service_stats& v : s.service->services) {
            services.push_back({{"name", v.name},
                                {"workers", v.workers},
                                {"waiting_workers", v.waiting_workers},
                                {"queued", v.queued},
                                {"requests", v.requests},
                                {"replies", v.replies},
                                {"expired", v.expired},
                                {"rejected", v.rejected}});
        }
        out["service"] = {{"traffic", traffic_json(s.service->counts)},
                          {"services", services},
                          {"workers_expired", s.service->workers_expired},
                          {"disconnects_sent", s.service->disconnects_sent},
                          {"mmi_requests", s.service->mmi_requests},
                          {"requests_expired", s.service->requests_expired},
                          {"requests_rejected", s.service->requests_rejected},
                          {"queued_bytes", s.service->queued_bytes},
                          {"names_refused", s.service->names_refused},
                          {"unexpected_dropped", s.service->unexpected_dropped},
                          {"workers_refused", s.service->workers_refused},
                          {"calls_refused", s.service->calls_refused}};
    }
    if (s.queue) {
        out["queue"] = queue_json(*s.queue);
    }
    if (s.pirate) {
        json pirate = queue_json(s.pirate->passed);
        pirate["workers_ready"] = s.pirate->workers_ready;
        pirate["workers_expired"] = s.pirate->workers_expired;
        pirate["heartbeats_sent"] = s.pirate->heartbeats_sent;
        out["pirate"] = pirate;
    }
    if (s.pair) {
        out["pair"] = pair_json(*s.pair);
    }
    if (s.memory) {
        out["memory"] = {{"in_use", s.memory->in_use},
                         {"limit", s.memory->limit},
                         {"refusals", s.memory->refusals}};
    }
    // Service and topic names are bytes from the network: replace what is not UTF-8.
    return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string to_prometheus(const stats& s) {
    prometheus_text out;
    out.metric("info", "gauge", "The broker's version, as a label.");
    out.sample("info", "version=\"" + std::string(zpat::version()) + "\"", 1);
    traffic_samples(out, s);
    if (s.forwarder) {
        forwarder_samples(out, *s.forwarder);
    }
    if (s.service) {
        service_samples(out, *s.service);
    }
    queue_samples(out, s);
    if (s.pair) {
        pair_samples(out, *s.pair);
    }
    if (s.memory) {
        memory_samples(out, *s.memory);
    }
    return out.take();
}

}  // namespace zpat::broker
