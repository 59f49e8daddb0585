// zpat: every messaging pattern from the shell. This file runs the verb the command line
// (command_line.cpp) names and maps errors to exit codes: 0 success, 1 runtime failure, 2 bad
// usage (flags, endpoints, options or key files that cannot work).

#include <functional>
#include <iostream>
#include <map>

#include "command_line.hpp"
#include "parse_error.hpp"
#include "zpat/core/error.hpp"
#include "zpat/version.hpp"

namespace {

using namespace zpat::cli;

int run_verb(const std::string& verb, verb_settings& s) {
    const std::map<std::string, std::function<int()>> verbs{
        {"pub", [&] { return run_pub(s.pub); }},
        {"sub", [&] { return run_sub(s.sub); }},
        {"req", [&] { return run_req(s.req); }},
        {"rep", [&] { return run_rep(s.rep); }},
        {"push", [&] { return run_push(s.push); }},
        {"pull", [&] { return run_pull(s.pull); }},
        {"call", [&] { return run_call(s.call); }},
        {"worker", [&] { return run_worker(s.worker); }},
        {"stats", [&] { return run_stats(s.stats); }},
    };
    const std::map<std::string, std::pair<const common_settings*, zpat::link>> sides{
        {"pub", {&s.pub, zpat::link::bind}},        {"sub", {&s.sub, zpat::link::connect}},
        {"req", {&s.req, zpat::link::connect}},     {"rep", {&s.rep, zpat::link::bind}},
        {"push", {&s.push, zpat::link::connect}},   {"pull", {&s.pull, zpat::link::bind}},
        {"call", {&s.call, zpat::link::connect}},   {"worker", {&s.worker, zpat::link::connect}},
        {"stats", {&s.stats, zpat::link::connect}},
    };
    if (verb == "keygen") {
        return run_keygen(s.keygen_name);
    }
    if (verb == "bench-proxy") {
        return zpat::bench::run_proxy_process(s.bench.proxy_kind, s.bench.transport);
    }
    if (auto found = verbs.find(verb); found != verbs.end()) {
        const auto [settings, side] = sides.at(verb);
        check_hosts(settings->endpoint, side);
        return found->second();
    }
    const std::map<std::string, zpat::bench::pattern> shapes{
        {"pipeline", zpat::bench::pattern::pipeline},
        {"pubsub", zpat::bench::pattern::pubsub},
        {"reqrep", zpat::bench::pattern::reqrep},
        {"broker-pubsub", zpat::bench::pattern::broker_pubsub},
        {"broker-fanout", zpat::bench::pattern::broker_fanout},
        {"broker-fanin", zpat::bench::pattern::broker_fanin},
        {"broker-mdp", zpat::bench::pattern::broker_mdp}};
    s.bench.shape = shapes.at(s.bench_pattern);
    return zpat::bench::run(s.bench);
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "zpat: messaging patterns from the shell (request-reply, pipeline, publish-subscribe)"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "zpat " + std::string(zpat::version()));
    app.footer(
        "Examples:\n"
        "  zpat rep @tcp://127.0.0.1:5555 --echo          # an echo server\n"
        "  zpat req tcp://127.0.0.1:5555 hello            # prints: hello\n"
        "  zpat sub tcp://127.0.0.1:5556 weather.         # every topic starting 'weather.'\n"
        "  zpat pub tcp://127.0.0.1:5556 weather.nyc 21C\n"
        "  zpat pull @tcp://127.0.0.1:5558 -n 3\n"
        "  zpat push tcp://127.0.0.1:5558 job -n 3\n"
        "  zpat worker tcp://127.0.0.1:5555 echo --echo   # behind zpat-broker\n"
        "  zpat call tcp://127.0.0.1:5555 echo hello\n"
        "  zpat stats tcp://127.0.0.1:5570\n"
        "  zpat bench pipeline --size 64\n"
        "  zpat keygen server                             # CURVE keys: server, server_secret\n"
        "Run 'zpat VERB --help' for each verb's options.");

    verb_settings settings;
    define_verbs(app, settings);
    // After the verbs: CLI11 gives each subcommand made later a --help-all of its own, which
    // prints the same as --help there.
    app.set_help_all_flag("--help-all", "Print the help of every subcommand and exit");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return zpat::cli::exit_on(app, e);
    }

    const std::string verb = app.get_subcommands().front()->get_name();
    try {
        return run_verb(verb, settings);
    } catch (const zpat::endpoint_error& e) {
        std::cerr << "zpat " << verb << ": " << e.what() << "\n";
        return 2;
    } catch (const zpat::unsupported_error& e) {
        std::cerr << "zpat " << verb << ": " << e.what() << "\n";
        return 2;
    } catch (const zpat::option_error& e) {
        std::cerr << "zpat " << verb << ": " << e.what() << "\n";
        return 2;
    } catch (const zpat::security_error& e) {
        std::cerr << "zpat " << verb << ": " << e.what() << "\n";
        return 2;
    } catch (const std::invalid_argument& e) {  // a value the library refuses, e.g. mmi.*
        std::cerr << "zpat " << verb << ": " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "zpat " << verb << ": " << e.what() << "\n";
        return 1;
    }
}
