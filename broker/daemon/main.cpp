// zpat-broker: the forwarder, the streamer and the Majordomo service broker as one daemon.
// Every setting is a flag and a key of the config file (--config FILE, TOML); --check-config
// prints the effective configuration and exits. SIGINT or SIGTERM stop it cleanly; SIGHUP
// reopens the log file.
// Exit codes: 0 after a clean stop, 1 on a runtime failure, 2 on bad usage or configuration.

#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <csignal>
#include <iostream>
#include <optional>

#include "config_file.hpp"
#include "curve_flags.hpp"
#include "descriptors.hpp"
#include "duration.hpp"
#include "http.hpp"
#include "log.hpp"
#include "permissions.hpp"
#include "systemd.hpp"
#include "tls_flags.hpp"
#include "zpat/broker/broker.hpp"
#include "zpat/core/endpoint.hpp"
#include "zpat/core/error.hpp"
#include "zpat/log.hpp"
#include "zpat/version.hpp"

namespace {

using zpat::cli::add_duration;

struct settings {
    bool no_service = false;
    bool no_forwarder = false;
    bool no_streamer = false;
    zpat::broker::service_config service;
    zpat::broker::forwarder_config forwarder;
    zpat::broker::streamer_config streamer;
    std::size_t max_message_size = std::size_t{16} * 1024 * 1024;
    std::size_t max_message_frames = 1024;
    int high_water_mark = 1000;
    std::string stats_endpoint = "tcp://127.0.0.1:5570";
    std::string http;
    int verbosity = 0;
    std::string log_level = "info";
    std::string log_file;
    std::string log_format = "text";
    bool check_config = false;
    zpat::cli::curve_flags curve;
    zpat::cli::tls_flags tls;
    bool allow_insecure = false;
    std::string http_token_file;
    std::string http_token;                  // read from http_token_file
    std::vector<std::string> allow_workers;  // SERVICE=PATH
    std::vector<std::string> allow_callers;
};

void define_service(CLI::App& app, settings& s);
void define_pubsub_and_pipeline(CLI::App& app, settings& s);
void define_limits(CLI::App& app, settings& s);

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
    define_limits(app, s);
}

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
    app.add_option("--max-subscriptions", s.forwarder.max_subscriptions,
                   "Subscriptions one subscriber may hold (raw+tcp backend; 0: no limit); past "
                   "this it is cut off, counted and logged")
        ->capture_default_str();
    app.add_option("--max-subscription-prefix", s.forwarder.max_subscription_prefix,
                   "Longest subscription prefix in bytes (raw+tcp backend; 0: no limit); a "
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

// Checks what can be checked without binding: every endpoint parses, names a known scheme, and
// its backend builds the role the broker puts there.
zpat::broker::config to_config(const settings& s) {
    zpat::broker::config cfg;
    cfg.max_message_size = s.max_message_size;
    cfg.max_message_frames = s.max_message_frames;
    cfg.stats_endpoint = s.stats_endpoint;
    try {
        cfg.curve = zpat::cli::curve_of(s.curve, zpat::cli::curve_sides::server);
    } catch (const zpat::error& e) {  // security_error, option_error
        throw CLI::ValidationError("--curve-secret", e.what());
    }
    cfg.tls = zpat::cli::tls_of(s.tls);
    cfg.allow_insecure = s.allow_insecure;
    const auto check = [&cfg](const std::string& flag, const std::string& value,
                              zpat::role_kind role) {
        try {
            zpat::check_offered(role, value, zpat::broker::secured(cfg, {}, value));
        } catch (const zpat::error& e) {  // endpoint_error, unsupported_error, option_error
            throw CLI::ValidationError(flag, e.what());
        }
    };
    using zpat::role_kind;
    if (!s.no_service) {
        check("--service-endpoint", s.service.endpoint, role_kind::service_worker);
        cfg.service = s.service;
        cfg.service->high_water_mark = s.high_water_mark;
    }
    if (!s.no_forwarder) {
        check("--forwarder-frontend", s.forwarder.frontend, role_kind::subscriber);
        check("--forwarder-backend", s.forwarder.backend, role_kind::publisher);
        if (s.forwarder.last_value_cache) {
            // The cache answers subscriptions: the backend must hand them over.
            check("--last-value-cache", s.forwarder.backend, role_kind::xpublisher);
        }
        cfg.forwarder = s.forwarder;
        cfg.forwarder->high_water_mark = s.high_water_mark;
    }
    if (!s.no_streamer) {
        check("--streamer-frontend", s.streamer.frontend, role_kind::puller);
        check("--streamer-backend", s.streamer.backend, role_kind::pusher);
        cfg.streamer = s.streamer;
        cfg.streamer->high_water_mark = s.high_water_mark;
    }
    if (!s.stats_endpoint.empty()) {
        check("--stats-endpoint", s.stats_endpoint, role_kind::replier);
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

void log_endpoints(const std::string& what, const std::vector<std::string>& endpoints) {
    for (const std::string& ep : endpoints) {
        spdlog::info("{} on {}", what, ep);
    }
}

// Waits for SIGINT or SIGTERM, looking at the descriptors in use every two seconds and pinging
// systemd's watchdog (if the unit has one) while every device runs; a SIGHUP meanwhile reopens
// the log file. Returns the signal.
int wait_for_stop(const sigset_t& signals, const zpat::broker::broker& broker,
                  zpat::broker::daemon::log_output& log) {
    namespace systemd = zpat::broker::daemon::systemd;
    zpat::broker::daemon::descriptor_watch descriptors;
    std::chrono::milliseconds every{2000};
    if (const auto watchdog = systemd::watchdog_interval(); watchdog.count() > 0) {
        every = std::clamp(watchdog, std::chrono::milliseconds{10}, every);  // never a spin
    }
    const timespec interval{every.count() / 1000, (every.count() % 1000) * 1'000'000};
    for (;;) {
        descriptors.check();
        if (broker.trouble().empty()) {
            systemd::watchdog();  // a stopped device stops the pings: systemd restarts us
        }
        const int received = sigtimedwait(&signals, nullptr, &interval);
        if (received < 0) {
            continue;  // the interval passed (EAGAIN), or another signal interrupted (EINTR)
        }
        if (received != SIGHUP) {
            return received;
        }
        systemd::reloading();
        log.reopen();
        spdlog::info(
            "SIGHUP received: {}; other settings are read at start only (restart to "
            "change them)",
            log.to_file() ? "log file reopened" : "logging to stderr, nothing to reopen");
        systemd::ready("serving");
    }
}

// Runs the broker until SIGINT or SIGTERM. Returns the exit status.
int run(const zpat::broker::config& cfg, const std::string& http_address,
        const std::string& http_token, zpat::broker::server_info info, const sigset_t& signals,
        zpat::broker::daemon::log_output& log) {
    namespace systemd = zpat::broker::daemon::systemd;
    zpat::broker::daemon::raise_descriptor_limit();
    zpat::broker::broker broker(cfg);
    spdlog::info("zpat-broker {} starting", zpat::version());
    log_endpoints("service broker (Majordomo MDP/0.1)", broker.service_endpoint());
    log_endpoints("forwarder frontend (publishers)", broker.forwarder_frontend());
    log_endpoints("forwarder backend (subscribers)", broker.forwarder_backend());
    log_endpoints("streamer frontend (producers)", broker.streamer_frontend());
    log_endpoints("streamer backend (workers)", broker.streamer_backend());
    log_endpoints("stats", broker.stats_endpoint());
    std::unique_ptr<zpat::broker::http_endpoint> http;
    if (!http_address.empty()) {
        http = std::make_unique<zpat::broker::http_endpoint>(
            zpat::broker::parse_http_address(http_address), broker, std::move(info), http_token);
        spdlog::info("HTTP counters on http://{0}/stats and /metrics, a dashboard at http://{0}/",
                     http->url_authority());
    }
    broker.start();
    systemd::ready("serving");  // every endpoint is bound: clients may connect
    const int received = wait_for_stop(signals, broker, log);
    systemd::stopping();
    spdlog::info("{} received: stopping", received == SIGINT ? "SIGINT" : "SIGTERM");
    http.reset();
    broker.stop();
    broker.wait();
    spdlog::info("stopped");
    return 0;
}

// The keys a config file may hold: every setting's long flag, less those of the command line.
std::vector<std::string> setting_names(const CLI::App& app) {
    std::vector<std::string> names;
    for (const CLI::Option* option : app.get_options()) {
        const std::vector<std::string>& long_names = option->get_lnames();
        if (option->get_configurable() && !long_names.empty() && long_names.front() != "help" &&
            long_names.front() != "version" && long_names.front() != "config") {
            names.push_back(long_names.front());
        }
    }
    return names;
}

// The level --log-level sets; -v and -vv lower it to debug and trace, never raise it.
spdlog::level::level_enum log_level(const settings& s) {
    const spdlog::level::level_enum set = spdlog::level::from_str(s.log_level);
    const spdlog::level::level_enum verbose = s.verbosity >= 2   ? spdlog::level::trace
                                              : s.verbosity == 1 ? spdlog::level::debug
                                                                 : set;
    return std::min(set, verbose);
}

// The settings in effect as a config file that reads back to them (with each key's help when
// `described`): -v and -vv are printed as the log-level they set.
std::string effective_config(CLI::App& app, const settings& s, bool described) {
    if (s.verbosity > 0) {
        const auto level = spdlog::level::to_string_view(log_level(s));
        app.get_option("--log-level")->clear();
        app.get_option("--log-level")->add_result(std::string(level.data(), level.size()));
    }
    return app.config_to_str(true, described);
}

// Parses the command line and the config file into `s` and `cfg`. Returns an exit status when
// there is nothing to run: --help, --version and --check-config (0), or a mistake (2).
std::optional<int> parse(CLI::App& app, settings& s, zpat::broker::config& cfg, int argc,
                         char** argv) {
    namespace daemon = zpat::broker::daemon;
    // The config file is read strictly first, so that a mistake in it is named by line.
    const std::string config_file = daemon::config_path(argc, argv);
    daemon::config_file file;
    if (!config_file.empty()) {
        file = daemon::read_config_file(config_file, setting_names(app));
        if (!file.problem.empty()) {
            std::cerr << "zpat-broker: " << file.problem << "\n";
            return 2;
        }
    }
    try {
        app.parse(argc, argv);
        cfg = to_config(s);
        if (!s.http_token_file.empty()) {
            try {
                s.http_token = zpat::broker::read_http_token(s.http_token_file);
            } catch (const std::invalid_argument& e) {
                throw CLI::ValidationError("--http-token-file", e.what());
            }
        }
    } catch (const CLI::ParseError& e) {
        if (const std::string where =
                daemon::locate_in_file(e.what(), config_file, file, argc, argv);
            !where.empty()) {
            std::cerr << "zpat-broker: " << where << "\n";
            return 2;
        }
        // --help prints and succeeds; every other parse or validation error is bad usage.
        const int code = app.exit(e);
        return code == 0 ? 0 : 2;
    }
    if (s.check_config) {
        std::cout << effective_config(app, s, true);
        return 0;
    }
    return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"zpat-broker: pub-sub forwarder, pipeline streamer and Majordomo service broker",
                 "zpat-broker"};
    app.footer(
        "\nExamples:\n"
        "  zpat-broker                          all devices on their loopback defaults\n"
        "  zpat-broker --no-forwarder --no-streamer --service-endpoint tcp://*:5555\n"
        "  zpat-broker --config broker.toml --check-config\n");
    app.set_version_flag("--version", "zpat-broker " + std::string(zpat::version()));
    settings s;
    define(app, s);
    zpat::broker::config cfg;
    if (const std::optional<int> done = parse(app, s, cfg, argc, argv)) {
        return *done;
    }
    // A daemon logs to stderr or its file; stdout stays free for --check-config and the like.
    std::optional<zpat::broker::daemon::log_output> log;
    try {
        log.emplace(s.log_file, log_level(s),
                    s.log_format == "json" ? zpat::broker::daemon::log_format::json
                                           : zpat::broker::daemon::log_format::text);
    } catch (const std::exception& e) {  // spdlog::spdlog_ex, std::runtime_error
        std::cerr << "zpat-broker: --log-file: " << e.what() << "\n";
        return 2;
    }

    // The library's own messages (a raw peer dropped, and why) go to the same log.
    zpat::set_log_sink([](std::string_view source, std::string_view what) {
        spdlog::warn("{}: {}", source, what);
    });

    // Signals are taken by this thread alone, with sigwait: every other thread blocks them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    try {
        return run(cfg, s.http, s.http_token, {.config = effective_config(app, s, false)}, signals,
                   *log);
    } catch (const zpat::endpoint_error& e) {
        spdlog::error("{}", e.what());
        return 2;
    } catch (const zpat::unsupported_error& e) {
        spdlog::error("{}", e.what());
        return 2;
    } catch (const std::exception& e) {
        spdlog::error("{}", e.what());
        return 1;
    }
}
