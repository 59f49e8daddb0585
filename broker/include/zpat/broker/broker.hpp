#pragma once
// zpat::broker::broker: the devices of zpat-broker as an object inside an application.
//
//   zpat::broker::config cfg;
//   cfg.service = zpat::broker::service_config{.endpoint = "tcp://127.0.0.1:5555"};
//   zpat::broker::broker b(cfg);   // binds everything now; throws if it cannot
//   b.start();                     // each device on its own thread
//   ... b.counters() ...
//   b.stop();                      // or let the destructor do it
//
// Five devices, each optional, and optionally a Binary Star pair with a second broker
// (pair_config) for the request-reply devices:
// - forwarder: publishers reach the frontend, subscribers the backend. On ZeroMQ endpoints
//   subscriptions travel upstream (XSUB/XPUB), so publishers filter before the network. With an
//   optional last-value cache, a new subscription gets the latest message of every matching
//   topic at once.
// - streamer: a pipeline hop; what the frontend pulls is pushed round-robin to the backend.
// - service: a Majordomo (MDP/0.1 + MMI) broker; clients and workers share one endpoint.
// - queue and pirate: the ZeroMQ Guide's request-reply queues (queue_config, pirate_config),
//   for the Guide's clients and workers as they are.
// Endpoints bind unless prefixed with '>'; the forwarder and the streamer also take raw+tcp://.
//
// start(), stop() and counters() are safe from any thread; stop() only touches an atomic flag and a
// descriptor, so a signal handler may call it.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "zpat/core/connection_counts.hpp"
#include "zpat/core/connection_info.hpp"
#include "zpat/core/options.hpp"

namespace zpat::broker {

struct forwarder_config {
    std::string frontend = "tcp://127.0.0.1:5559";  // publishers connect here
    std::string backend = "tcp://127.0.0.1:5560";   // subscribers connect here
    bool last_value_cache = false;
    // Memory the last-value cache may hold: topics and their latest messages, together. A new
    // topic, or a value, that would take it past this is not cached (counted in `uncached`).
    std::size_t max_cached_bytes = std::size_t{64} * 1024 * 1024;
    // Lossless: wait for a slow subscriber instead of dropping (slows every publisher down).
    bool lossless = false;
    int high_water_mark = 1000;
    // What one subscriber may make the forwarder hold, on raw+tcp and ZeroMQ backends (see
    // zpat::options::max_subscriptions): past it the subscriber is cut off.
    std::size_t max_subscriptions = 10000;
    std::size_t max_subscription_prefix = 1024;
};

struct streamer_config {
    std::string frontend = "tcp://127.0.0.1:5561";  // producers push here
    std::string backend = "tcp://127.0.0.1:5562";   // workers pull from here
    int high_water_mark = 1000;
};

struct service_config {
    std::string endpoint = "tcp://127.0.0.1:5555";
    milliseconds heartbeat_interval{2500};
    int heartbeat_liveness = 3;  // a worker silent this many intervals is presumed dead
    // Requests waiting for workers are bounded by the memory they hold, all services together
    // (bodies, client identities and bookkeeping), and optionally by count per service. MDP has
    // no refusal reply: a refused request is dropped, counted and logged with the running total.
    std::size_t max_queued_bytes = std::size_t{256} * 1024 * 1024;
    std::size_t max_queue = 0;           // requests waiting per service; 0: no count limit
    milliseconds request_expiry{10000};  // a request not dispatched by then is dropped
    // What one peer can make the broker remember. A request or READY naming a service longer
    // than max_service_name bytes, or a new service while max_services are known, is refused
    // (a worker is told DISCONNECT), counted and logged.
    std::size_t max_service_name = 255;
    std::size_t max_services = 10000;
    // The RFC answers an unexpected command with DISCONNECT; a peer that keeps sending them is
    // answered at most this many times a second, and the rest are dropped and counted.
    int max_unexpected_per_second = 10;
    int high_water_mark = 1000;
    // With CURVE (config::curve), who may serve and who may call each service: the CURVE public
    // keys (Z85) allowed per service name, "*" standing for every service. Empty: any client
    // the CURVE allow-list lets in may. A worker that may not serve what it names in READY is
    // told DISCONNECT; a request its sender may not make is dropped (MDP has no refusal);
    // both are counted (workers_refused, calls_refused) and logged. Without CURVE no peer has
    // a key, so a table with any entry lets nobody serve (or call): it fails closed.
    std::map<std::string, std::vector<std::string>, std::less<>> workers_allowed{};
    std::map<std::string, std::vector<std::string>, std::less<>> callers_allowed{};
};

// The ZeroMQ Guide's request-reply queue (rrbroker, msgqueue): clients (REQ or DEALER) reach a
// ROUTER frontend, workers (REP or DEALER) a DEALER backend, and messages pass through with
// their envelopes, requests round-robin to the workers. ZeroMQ endpoints only.
struct queue_config {
    std::string frontend = "tcp://127.0.0.1:5563";  // clients connect here
    std::string backend = "tcp://127.0.0.1:5564";   // workers connect here
    int high_water_mark = 1000;
};

// The Guide's load-balancing queue for Pirate workers (ppqueue, and spqueue's workers too):
// clients (REQ, as lpclient) reach a ROUTER frontend; workers reach a ROUTER backend, say READY
// (0x01) and get each request while idle, least recently used first. A Paranoid Pirate worker
// (DEALER) and the queue exchange HEARTBEAT (0x02) every heartbeat_interval, and a worker
// silent for heartbeat_liveness intervals is forgotten; a Simple Pirate worker (REQ) cannot
// take heartbeats, and is forgotten when its connection ends. ZeroMQ endpoints only.
struct pirate_config {
    std::string frontend = "tcp://127.0.0.1:5565";  // clients connect here
    std::string backend = "tcp://127.0.0.1:5566";   // workers connect here
    milliseconds heartbeat_interval{1000};
    int heartbeat_liveness = 3;
    int high_water_mark = 1000;
};

// One of the ZeroMQ Guide's Binary Star pair (chapter 4): two brokers, a primary and a backup,
// of which one serves clients (active) and the other stands by (passive). Each publishes its
// state every heartbeat on `endpoint` (bound) and hears its peer's on `peer` (connected), one
// frame of the Guide's numbers ("1" primary, "2" backup, "3" active, "4" passive), so a
// bstarsrv can be the peer. The passive one drops client requests, and takes over only when a
// client request reaches it while the peer has been silent for two heartbeats: a partition
// between the two brokers alone never makes two actives. Should both be active all the same
// (the partition was between each broker and part of the clients), the backup gives way.
// Workers and replies pass on both; only client requests are held to the state: the service
// broker's MDPC01 requests, and the frontends of the queue and the pirate queue. The forwarder
// and the streamer do not run in a pair (the broker refuses them). With CURVE both brokers hold
// the same key pair, so clients trust either; the link between them uses it too.
struct pair_config {
    bool primary = true;                            // else the backup
    std::string endpoint = "tcp://127.0.0.1:5567";  // where this broker publishes its state
    std::string peer;                               // where the peer publishes its state
    milliseconds heartbeat{1000};                   // the same on both
};

struct config {
    std::optional<forwarder_config> forwarder;
    std::optional<streamer_config> streamer;
    std::optional<service_config> service;
    std::optional<queue_config> queue;
    std::optional<pirate_config> pirate;
    // A Binary Star pair with another broker; unset: this broker serves alone.
    std::optional<pair_config> pair;
    // The largest message any device accepts, in bytes and in frames; larger ones are dropped
    // and counted.
    std::size_t max_message_size = std::size_t{16} * 1024 * 1024;
    std::size_t max_message_frames = 1024;
    // A budget for the memory of the whole process, in bytes; 0: none. While the process holds
    // this much (its resident size), new work is refused instead of taken on: Majordomo
    // requests are dropped (requests_rejected) and the last-value cache keeps no new topic or
    // larger value (uncached); each refusal is counted (stats::memory) and logged. Messages in
    // flight are bounded by the high-water marks as always. Embedded, the budget counts the
    // application's memory too.
    std::size_t max_memory = 0;
    // Where `zpat stats` asks for the counters (a request-reply endpoint); empty for none.
    std::string stats_endpoint;
    // CURVE on every endpoint of every device and on the stats endpoint, all ZeroMQ then (see
    // zpat/core/curve.hpp): the broker is the CURVE server its clients, workers, publishers
    // and subscribers authenticate to. Unset: no security.
    std::optional<curve_options> curve;
    // TLS on raw+tls:// endpoints (zpat/core/tls.hpp): the broker's certificate and key, and
    // whom it takes client certificates from. ZeroMQ endpoints take CURVE instead (or nothing);
    // a raw+tcp:// or raw+udp:// endpoint with this set is refused: TLS was asked for.
    std::optional<tls_options> tls;
    // Let raw+tcp endpoints bind beyond loopback: plain, unauthenticated traffic from other
    // machines (options::allow_insecure). Refused otherwise.
    bool allow_insecure = false;
};

// What passed through one device. Snapshots: plain numbers.
struct traffic {
    std::uint64_t messages_in = 0;
    std::uint64_t bytes_in = 0;
    std::uint64_t messages_out = 0;
    std::uint64_t bytes_out = 0;
    // Messages the device dropped at a high-water mark (see docs/broker.md for what each side
    // can observe), over the size limit, or malformed.
    std::uint64_t dropped_full = 0;
    std::uint64_t dropped_oversized = 0;
    std::uint64_t dropped_malformed = 0;
    // What each side's connections went through: opened, closed, and closed for what reason
    // (zpat::connection_counts says what each backend can tell). The service broker has one
    // side, counted as the frontend.
    connection_counts frontend_connections;
    connection_counts backend_connections;
};

struct topic_stats {
    std::string prefix;               // a subscription prefix ("" = everything)
    std::uint64_t subscriptions = 0;  // subscribers holding it now
    std::uint64_t messages = 0;       // messages forwarded that matched it
};

struct forwarder_stats {
    traffic counts;
    std::vector<topic_stats> topics;
    std::uint64_t cached_topics = 0;  // last-value cache entries
    std::uint64_t cached_bytes = 0;   // what they hold: topics and messages
    // Messages whose topic the cache could not keep: past max_cached_bytes or 65,536 topics.
    std::uint64_t uncached = 0;
    // Subscriptions (and other messages) from subscribers that a publisher lost at its
    // high-water mark, one that does not read: counted on zpat's own XSUB (the default for
    // tcp:// binds), 0 on libzmq's, which drops without telling; raw+tcp loses none.
    std::uint64_t upstream_dropped = 0;
};

struct service_stats {
    std::string name;
    std::uint64_t workers = 0;          // registered now
    std::uint64_t waiting_workers = 0;  // idle now
    std::uint64_t queued = 0;           // requests waiting for a worker now
    std::uint64_t requests = 0;
    std::uint64_t replies = 0;
    std::uint64_t expired = 0;   // dropped after request_expiry in the queue
    std::uint64_t rejected = 0;  // refused because the queue was full
};

struct service_broker_stats {
    traffic counts;
    std::vector<service_stats> services;
    std::uint64_t workers_expired = 0;   // silent past the liveness, purged
    std::uint64_t disconnects_sent = 0;  // DISCONNECT sent for an unexpected command
    std::uint64_t mmi_requests = 0;
    std::uint64_t requests_expired = 0;    // all services, including ones since forgotten
    std::uint64_t requests_rejected = 0;   // refused: max_queued_bytes or max_queue reached
    std::uint64_t queued_bytes = 0;        // held by waiting requests now
    std::uint64_t names_refused = 0;       // over max_service_name, or past max_services
    std::uint64_t unexpected_dropped = 0;  // past max_unexpected_per_second: not answered
    std::uint64_t workers_refused = 0;     // READY for a service its key may not serve
    std::uint64_t calls_refused = 0;       // a request for a service its key may not call
};

// One connection open on a device now (what /connz lists).
struct device_connection {
    std::string device;  // "forwarder", "streamer", "service", "queue", "pirate" or "pair"
    std::string side;    // "frontend" or "backend" (the service broker has one side: frontend)
    connection_info connection;
};

// What a request-reply queue passed. Its traffic counts requests and replies together: in as
// received on either side, out as sent on.
struct queue_stats {
    traffic counts;
    std::uint64_t requests = 0;    // passed from clients to workers
    std::uint64_t replies = 0;     // passed from workers to clients
    std::uint64_t unroutable = 0;  // replies dropped: their client was gone
};

struct pirate_stats {
    queue_stats passed;
    std::uint64_t workers_ready = 0;    // idle workers now
    std::uint64_t workers_expired = 0;  // forgotten after going silent
    std::uint64_t heartbeats_sent = 0;
};

// Where a broker of a Binary Star pair stands. States are the Guide's names: "primary" and
// "backup" until the peer is first heard, then "active" or "passive".
struct pair_stats {
    std::string role;                  // "primary" or "backup"
    std::string state;                 // this broker's
    std::string peer_state;            // as last heard, or "unknown"
    std::int64_t peer_silent_ms = -1;  // since the peer was last heard; -1: never
    std::uint64_t became_active = 0;   // times this broker took over serving clients
    std::uint64_t requests_admitted = 0;
    std::uint64_t requests_refused = 0;  // client requests dropped while not active
    std::uint64_t state_messages = 0;    // heard from the peer
    std::uint64_t malformed_states = 0;  // from the peer, not one of the four states: ignored
    std::uint64_t split_brains = 0;      // both active, or both passive, seen and resolved
};

// The memory budget (config::max_memory), when one is set.
struct memory_stats {
    std::uint64_t in_use = 0;    // bytes the process holds, as last read
    std::uint64_t limit = 0;     // config::max_memory
    std::uint64_t refusals = 0;  // work refused because in_use had reached limit
};

struct stats {
    std::optional<forwarder_stats> forwarder;
    std::optional<traffic> streamer;
    std::optional<service_broker_stats> service;
    std::optional<queue_stats> queue;
    std::optional<pirate_stats> pirate;
    std::optional<pair_stats> pair;
    std::optional<memory_stats> memory;
};

// `opts` with the security `cfg` gives the broker's `endpoints`: CURVE (config::curve) on ZeroMQ
// endpoints, TLS (config::tls) on raw ones, and config::allow_insecure. A raw endpoint of a
// broker with CURVE and no TLS gets the CURVE, and so is refused by name rather than left plain
// by mistake, as a raw+tcp:// or raw+udp:// endpoint is with TLS. Throws: zpat::endpoint_error
// for endpoints that do not parse.
options secured(const config& cfg, options opts, std::string_view endpoints);

// Renders counters as one JSON object, and in the Prometheus text format.
std::string to_json(const stats& s);
std::string to_prometheus(const stats& s);

class broker {
  public:
    // Binds every configured endpoint. Throws: zpat::endpoint_error, zpat::connection_error,
    // zpat::unsupported_error (for example Majordomo on raw+tcp://).
    explicit broker(const config& cfg);
    // Stops the devices (see stop()) and waits for them.
    ~broker();
    broker(const broker&) = delete;
    broker& operator=(const broker&) = delete;

    // Runs each device on its own thread. Idempotent.
    void start();
    // Asks every device to finish: replies already received from workers are still sent, then
    // sockets close with the configured linger. Returns at once; the destructor or wait() joins.
    void stop() noexcept;
    // Waits until every device thread has ended (after stop()).
    void wait();

    // A snapshot of the counters; the per-topic and per-service tables are at most 100 ms old.
    stats counters() const;
    // Every device's connections open now: peer, endpoint, since when and, on raw TCP
    // endpoints, what each carried (zpat/core/connection_info.hpp).
    std::vector<device_connection> connections() const;
    // Why the broker is not serving, or "" while every device runs: "not started", "stopping",
    // or which device stopped and why (a device that fails ends alone; the rest carry on).
    std::string trouble() const;

    // The bound addresses, with real ports for ":*" (empty for a device not configured).
    std::vector<std::string> forwarder_frontend() const;
    std::vector<std::string> forwarder_backend() const;
    std::vector<std::string> streamer_frontend() const;
    std::vector<std::string> streamer_backend() const;
    std::vector<std::string> service_endpoint() const;
    std::vector<std::string> queue_frontend() const;
    std::vector<std::string> queue_backend() const;
    std::vector<std::string> pirate_frontend() const;
    std::vector<std::string> pirate_backend() const;
    std::vector<std::string> stats_endpoint() const;
    std::vector<std::string> pair_endpoint() const;  // where this broker publishes its state

  private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace zpat::broker
