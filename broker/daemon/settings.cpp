#include "settings.hpp"

#include <algorithm>

#include "duration.hpp"
#include "http.hpp"
#include "log.hpp"
#include "permissions.hpp"
#include "zpat/core/endpoint.hpp"
#include "zpat/core/error.hpp"

namespace zpat::broker::daemon {
namespace {

using zpat::cli::add_duration;

void define_service(CLI::App& app, settings& s) {
    app.add_flag("--no-service", s.no_service, "Do not run the Majordomo service broker");
    app.add_option("--service-endpoint", s.service.endpoint,
                   "Where clients and workers reach the service broker")
        ->capture_default_str();
    add_duration(&app, "--heartbeat-interval", s.service.heartbeat_interval,
                 "Heartbeat interval with workers")
        ->default_str("2.5s");
    app.add_option("--heartbeat-liveness", s.service.heartbeat_liveness,
                   "Silent intervals before a worker is presumed dead")
        ->capture_default_str()
        ->check(CLI::Range(1, 100));
    app.add_option("--max-queued-bytes", s.service.max_queued_bytes,
                   "Memory that requests waiting for workers may hold, all services together "
                   "(e.g. 256MiB); more are refused, counted and logged")
        ->capture_default_str()
        ->transform(CLI::AsSizeValue(false))
        ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 40));
    app.add_option("--max-queue", s.service.max_queue,
                   "Requests that may wait per service, or 0 for no count limit")
        ->capture_default_str()
        ->check(CLI::Range(0, 100'000'000));
    add_duration(&app, "--request-expiry", s.service.request_expiry,
                 "How long a request waits for a worker before it is dropped")
        ->default_str("10s");
    app.add_option("--max-service-name", s.service.max_service_name,
                   "Longest service name in bytes; longer ones are refused, counted and logged")
        ->capture_default_str()
        ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 16));
    app.add_option("--max-services", s.service.max_services,
                   "Services the broker knows at once; requests and READYs for a new one past "
                   "this are refused, counted and logged")
        ->capture_default_str()
        ->check(CLI::Range(std::size_t{1}, std::size_t{10'000'000}));
    app.add_option("--max-unexpected-per-second", s.service.max_unexpected_per_second,
                   "DISCONNECTs one peer gets a second for unexpected commands; past this they "
                   "are dropped unanswered and counted")
        ->capture_default_str()
        ->check(CLI::Range(1, 1'000'000));
    app.add_option("--allow-worker", s.allow_workers,
                   "With CURVE: SERVICE=PATH lets the keys of the certificates at PATH (a file "
                   "or directory) serve SERVICE (* for every service); once any is given, other "
                   "workers are told DISCONNECT (repeatable)");
    app.add_option("--allow-caller", s.allow_callers,
                   "With CURVE: SERVICE=PATH lets those keys call SERVICE; once any is given, "
                   "other requests are dropped and counted (repeatable)");
}

void define_pubsub_and_pipeline(CLI::App& app, settings& s) {
    app.add_flag("--no-forwarder", s.no_forwarder, "Do not run the pub-sub forwarder");
    app.add_option("--forwarder-frontend", s.forwarder.frontend,
                   "Where publishers reach the forwarder (ZeroMQ, raw+tcp or raw+tls)")
        ->capture_default_str();
    app.add_option("--forwarder-backend", s.forwarder.backend,
                   "Where subscribers reach the forwarder (ZeroMQ, raw+tcp or raw+tls)")
        ->capture_default_str();
    app.add_flag("--last-value-cache", s.forwarder.last_value_cache,
                 "Send a new subscriber the latest message of each topic it subscribes to");
    app.add_option("--max-cached-bytes", s.forwarder.max_cached_bytes,
                   "Memory the last-value cache may hold, topics and messages together (e.g. "
                   "64MiB); a topic or value past it is not cached, and counted")
        ->capture_default_str()
        ->transform(CLI::AsSizeValue(false))
        ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 40));
    app.add_flag("--lossless", s.forwarder.lossless,
                 "Wait for slow subscribers instead of dropping (slows publishers down)");
    app.add_option(
           "--max-subscriptions", s.forwarder.max_subscriptions,
           "Subscriptions one subscriber may hold (raw+tcp and ZeroMQ backends; 0: none); past "
           "this it is cut off, counted and logged")
        ->capture_default_str();
    app.add_option("--max-subscription-prefix", s.forwarder.max_subscription_prefix,
                   "Longest subscription prefix in bytes (raw+tcp and ZeroMQ backends; 0: none); a "
                   "subscriber sending a longer one is cut off, counted and logged")
        ->capture_default_str();

    app.add_flag("--no-streamer", s.no_streamer, "Do not run the pipeline streamer");
    app.add_option("--streamer-frontend", s.streamer.frontend,
                   "Where producers push to the streamer (ZeroMQ, raw+tcp or raw+tls)")
        ->capture_default_str();
    app.add_option("--streamer-backend", s.streamer.backend,
                   "Where workers pull from the streamer (ZeroMQ, raw+tcp or raw+tls)")
        ->capture_default_str();
}

void define_queues(CLI::App& app, settings& s) {
    app.add_flag("--queue", s.queue,
                 "Run the Guide's request-reply queue (rrbroker): a ROUTER for REQ or DEALER "
                 "clients, a DEALER for REP or DEALER workers");
    app.add_option("--queue-frontend", s.queue_device.frontend,
                   "Where clients reach the request-reply queue (ZeroMQ)")
        ->capture_default_str();
    app.add_option("--queue-backend", s.queue_device.backend,
                   "Where workers reach the request-reply queue (ZeroMQ)")
        ->capture_default_str();
    app.add_flag("--pirate", s.pirate,
                 "Run the Guide's load-balancing queue for Simple and Paranoid Pirate workers "
                 "(ppqueue: READY, and heartbeats with DEALER workers)");
    app.add_option("--pirate-frontend", s.pirate_device.frontend,
                   "Where clients reach the pirate queue (ZeroMQ)")
        ->capture_default_str();
    app.add_option("--pirate-backend", s.pirate_device.backend,
                   "Where workers reach the pirate queue (ZeroMQ)")
        ->capture_default_str();
    add_duration(&app, "--pirate-heartbeat-interval", s.pirate_device.heartbeat_interval,
                 "Heartbeat interval with Paranoid Pirate workers")
        ->default_str("1s");
    app.add_option("--pirate-heartbeat-liveness", s.pirate_device.heartbeat_liveness,
                   "Silent intervals before a Paranoid Pirate worker is forgotten")
        ->capture_default_str()
        ->check(CLI::Range(1, 100));
}

void define_pair(CLI::App& app, settings& s) {
    app.add_option("--role", s.role,
                   "primary or backup: one of the Guide's Binary Star pair, the active broker "
                   "serving clients and the passive one taking over when the active falls "
                   "silent (service broker, --queue and --pirate). Empty: not in a pair")
        ->capture_default_str()
        ->check(CLI::IsMember({"", "primary", "backup"}));
    app.add_option("--peer", s.pair.peer,
                   "Where the other broker of the pair publishes its state (its --pair-endpoint)")
        ->capture_default_str();
    app.add_option("--pair-endpoint", s.pair.endpoint,
                   "Where this broker publishes its state to its peer")
        ->capture_default_str();
    add_duration(&app, "--pair-heartbeat", s.pair.heartbeat,
                 "How often the brokers of a pair send their state; a peer silent for two is "
                 "presumed gone (the same on both)")
        ->default_str("1s");
}

void define_limits(CLI::App& app, settings& s) {
    app.add_option("--high-water-mark", s.high_water_mark,
                   "Messages queued per peer and direction before the broker drops or waits")
        ->capture_default_str()
        ->check(CLI::Range(0, 100'000'000));
    app.add_option("--max-message-size", s.max_message_size,
                   "Largest message (e.g. 16MiB); larger ones are dropped and counted")
        ->capture_default_str()
        ->transform(CLI::AsSizeValue(false))
        ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 31));
    app.add_option("--max-message-frames", s.max_message_frames,
                   "Most frames in one message (raw+tcp carries at most 1024); more are dropped "
                   "and counted")
        ->capture_default_str()
        ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20));
    app.add_option("--max-memory", s.max_memory,
                   "Memory the whole process may hold (resident; e.g. 1GiB), or 0 for no "
                   "budget; at it, new work is refused, counted and logged")
        ->capture_default_str()
        ->transform(CLI::AsSizeValue(false))
        ->check(CLI::Range(std::size_t{0}, std::size_t{1} << 48));
    app.add_option("--stats-endpoint", s.stats_endpoint,
                   "Where `zpat stats` reads the counters; empty for none")
        ->capture_default_str();
    app.add_option("--http", s.http,
                   "Serve the counters over HTTP at HOST:PORT (/ a live dashboard, /stats JSON, "
                   "/metrics Prometheus, /healthz); "
                   "off by default")
        ->capture_default_str();
    app.add_option("--http-token-file", s.http_token_file,
                   "Require 'Authorization: Bearer TOKEN' on HTTP (all but / and /healthz), "
                   "TOKEN being this file's first line; the file must be private to its owner")
        ->capture_default_str();
    zpat::cli::add_curve_flags(&app, s.curve, zpat::cli::curve_sides::server);
    zpat::cli::add_tls_flags(&app, s.tls, zpat::cli::curve_sides::server);
    app.add_flag("--allow-insecure", s.allow_insecure,
                 "Let raw+tcp and raw+udp endpoints bind beyond loopback: plain, unauthenticated "
                 "traffic from other machines");
}

// --allow-worker and --allow-caller into the service broker's permissions: only with CURVE,
// which is where peers have keys.
void read_service_permissions(const settings& s, zpat::broker::config& cfg) {
    const std::pair<const char*, const std::vector<std::string>*> flags[] = {
        {"--allow-worker", &s.allow_workers}, {"--allow-caller", &s.allow_callers}};
    for (const auto& [flag, entries] : flags) {
        if (std::ranges::all_of(*entries, [](const std::string& e) { return e.empty(); })) {
            continue;
        }
        if (!cfg.curve) {
            throw CLI::ValidationError(flag,
                                       "needs --curve-secret: without CURVE, peers have no "
                                       "keys to be allowed by");
        }
        if (!cfg.service) {
            continue;
        }
        try {
            (std::string_view(flag) == "--allow-worker" ? cfg.service->workers_allowed
                                                        : cfg.service->callers_allowed) =
                zpat::broker::daemon::read_permissions(*entries);
        } catch (const std::invalid_argument& e) {
            throw CLI::ValidationError(flag, e.what());
        }
    }
}

// `flag`'s endpoints parse, name a known scheme, and their backend builds `role` with the
// security of `cfg`. Throws: CLI::ValidationError naming the flag.
void check(const zpat::broker::config& cfg, const std::string& flag, const std::string& value,
           zpat::role_kind role) {
    try {
        zpat::check_offered(role, value, zpat::broker::secured(cfg, {}, value));
    } catch (const zpat::error& e) {  // endpoint_error, unsupported_error, option_error
        throw CLI::ValidationError(flag, e.what());
    }
}

// The devices asked for, their endpoints checked.
void add_devices(const settings& s, zpat::broker::config& cfg) {
    using zpat::role_kind;
    if (!s.no_service) {
        check(cfg, "--service-endpoint", s.service.endpoint, role_kind::service_worker);
        cfg.service = s.service;
        cfg.service->high_water_mark = s.high_water_mark;
    }
    if (!s.no_forwarder) {
        check(cfg, "--forwarder-frontend", s.forwarder.frontend, role_kind::subscriber);
        check(cfg, "--forwarder-backend", s.forwarder.backend, role_kind::publisher);
        if (s.forwarder.last_value_cache) {
            // The cache answers subscriptions: the backend must hand them over.
            check(cfg, "--last-value-cache", s.forwarder.backend, role_kind::xpublisher);
        }
        cfg.forwarder = s.forwarder;
        cfg.forwarder->high_water_mark = s.high_water_mark;
    }
    if (!s.no_streamer) {
        check(cfg, "--streamer-frontend", s.streamer.frontend, role_kind::puller);
        check(cfg, "--streamer-backend", s.streamer.backend, role_kind::pusher);
        cfg.streamer = s.streamer;
        cfg.streamer->high_water_mark = s.high_water_mark;
    }
    if (s.queue) {
        check(cfg, "--queue-frontend", s.queue_device.frontend, role_kind::router);
        check(cfg, "--queue-backend", s.queue_device.backend, role_kind::dealer);
        cfg.queue = s.queue_device;
        cfg.queue->high_water_mark = s.high_water_mark;
    }
    if (s.pirate) {
        check(cfg, "--pirate-frontend", s.pirate_device.frontend, role_kind::router);
        check(cfg, "--pirate-backend", s.pirate_device.backend, role_kind::router);
        cfg.pirate = s.pirate_device;
        cfg.pirate->high_water_mark = s.high_water_mark;
    }
}

// A Binary Star pair, asked for with --role: its flags checked together.
void add_pair(const settings& s, zpat::broker::config& cfg) {
    if (s.role.empty()) {
        if (!s.pair.peer.empty()) {
            throw CLI::ValidationError("--peer", "needs --role primary or --role backup");
        }
        return;
    }
    if (s.pair.peer.empty()) {
        throw CLI::ValidationError("--role",
                                   "needs --peer: where the other broker of the pair "
                                   "publishes its state");
    }
    if (cfg.streamer) {
        throw CLI::ValidationError(
            "--role",
            "the streamer does not run in a Binary Star pair (a pusher given both brokers "
            "deals its messages between them): add --no-streamer");
    }
    check(cfg, "--pair-endpoint", s.pair.endpoint, zpat::role_kind::publisher);
    check(cfg, "--peer", s.pair.peer, zpat::role_kind::subscriber);
    if (zpat::backend_name(s.pair.endpoint) != "zeromq" ||
        zpat::backend_name(s.pair.peer) != "zeromq") {
        throw CLI::ValidationError("--role",
                                   "a pair's state travels on ZeroMQ endpoints "
                                   "(tcp://, ipc://), as the Guide's bstarsrv does");
    }
    if (s.pair.heartbeat <= milliseconds{0}) {
        throw CLI::ValidationError("--pair-heartbeat", "must be longer than 0");
    }
    cfg.pair = s.pair;
    cfg.pair->primary = s.role == "primary";
}

}  // namespace

void define(CLI::App& app, settings& s) {
    app.set_config("--config", "", "Read settings from this TOML file (keys as the long flags)");
    // A misspelt key in a config file is an error, not a setting silently ignored.
    app.allow_config_extras(CLI::config_extras_mode::error);
    app.add_flag("--check-config", s.check_config,
                 "Validate the settings, print the effective configuration and exit")
        ->configurable(false);
    // -v is for the command line; --check-config prints its effect as log-level instead.
    app.add_flag("-v,--verbose", s.verbosity, "More logging: -v debug, -vv trace")
        ->configurable(false);
    app.add_option("--log-level", s.log_level, "trace, debug, info, warn, error or off")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
        ->capture_default_str();
    app.add_option("--log-file", s.log_file,
                   "Log to this file (appended; SIGHUP reopens it) instead of stderr");
    app.add_option("--log-format", s.log_format,
                   "text, or json: one object per line (time, level, logger, message)")
        ->check(CLI::IsMember({"text", "json"}))
        ->capture_default_str();
    define_service(app, s);
    define_pubsub_and_pipeline(app, s);
    define_queues(app, s);
    define_pair(app, s);
    define_limits(app, s);
}

zpat::broker::config to_config(const settings& s) {
    zpat::broker::config cfg;
    cfg.max_message_size = s.max_message_size;
    cfg.max_message_frames = s.max_message_frames;
    cfg.max_memory = s.max_memory;
    cfg.stats_endpoint = s.stats_endpoint;
    try {
        cfg.curve = zpat::cli::curve_of(s.curve, zpat::cli::curve_sides::server);
    } catch (const zpat::error& e) {  // security_error, option_error
        throw CLI::ValidationError("--curve-secret", e.what());
    }
    cfg.tls = zpat::cli::tls_of(s.tls);
    cfg.allow_insecure = s.allow_insecure;
    add_devices(s, cfg);
    add_pair(s, cfg);
    if (!s.stats_endpoint.empty()) {
        check(cfg, "--stats-endpoint", s.stats_endpoint, zpat::role_kind::replier);
    }
    read_service_permissions(s, cfg);
    if (const auto problem = zpat::broker::daemon::log_file_problem(s.log_file); !problem.empty()) {
        throw CLI::ValidationError("--log-file", problem);
    }
    if (!s.http.empty()) {
        try {
            (void)zpat::broker::parse_http_address(s.http);
        } catch (const std::invalid_argument& e) {
            throw CLI::ValidationError("--http", e.what());
        }
    }
    return cfg;
}

}  // namespace zpat::broker::daemon
