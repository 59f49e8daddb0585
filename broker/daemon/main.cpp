// zpat-broker: the forwarder, the streamer, the Majordomo service broker and the Guide's
// request-reply queues as one daemon.
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
#include "descriptors.hpp"
#include "http.hpp"
#include "log.hpp"
#include "parse_error.hpp"
#include "settings.hpp"
#include "systemd.hpp"
#include "zpat/broker/broker.hpp"
#include "zpat/core/error.hpp"
#include "zpat/log.hpp"
#include "zpat/version.hpp"

namespace {

using zpat::broker::daemon::settings;

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
    log_endpoints("queue frontend (clients)", broker.queue_frontend());
    log_endpoints("queue backend (workers)", broker.queue_backend());
    log_endpoints("pirate queue frontend (clients)", broker.pirate_frontend());
    log_endpoints("pirate queue backend (workers)", broker.pirate_backend());
    log_endpoints("pair state (to the peer)", broker.pair_endpoint());
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
        cfg = zpat::broker::daemon::to_config(s);
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
        return zpat::cli::exit_on(app, e);
    }
    if (s.check_config) {
        std::cout << effective_config(app, s, true);
        return 0;
    }
    return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "zpat-broker: pub-sub forwarder, pipeline streamer, Majordomo service broker and "
        "the Guide's request-reply queues",
        "zpat-broker"};
    app.footer(
        "\nExamples:\n"
        "  zpat-broker                          forwarder, streamer and service broker on "
        "loopback\n"
        "  zpat-broker --no-forwarder --no-streamer --service-endpoint tcp://*:5555\n"
        "  zpat-broker --pirate --no-service    the Guide's Pirate queue (5565/5566), no "
        "Majordomo\n"
        "  zpat-broker --no-streamer --role primary --peer tcp://10.0.0.2:5567\n"
        "                                       the primary of a Binary Star pair (see "
        "docs/scaling.md)\n"
        "  zpat-broker --config broker.toml --check-config\n");
    app.set_version_flag("--version", "zpat-broker " + std::string(zpat::version()));
    settings s;
    zpat::broker::daemon::define(app, s);
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
