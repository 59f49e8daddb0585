// The examples' command lines on CLI11. The flags are not all known until check(), so each
// question parses the command line again with what is known so far, letting the rest pass;
// check() parses it a last time with nothing let pass and --help and --version switched on.

#include "common/args.hpp"

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <deque>

#include "at_least.hpp"
#include "zpat/version.hpp"

namespace example {

struct args::state {
    int argc = 0;
    char** argv = nullptr;
    CLI::App app;
    std::deque<std::string> texts;  // where CLI11 writes each value: addresses that stay
    std::deque<long> numbers;
};

args::args(int argc, char** argv, std::string about) : state_(std::make_unique<state>()) {
    state_->argc = argc;
    state_->argv = argv;
    state_->app.description(std::move(about));
    state_->app.name(argv[0]);
    state_->app.allow_extras();
    state_->app.set_help_flag();  // until check(): a --help must not stop the questions
}

args::~args() = default;

namespace {

// Parses the command line as `app` stands; exits 2 (0 for --help) with CLI11's words on a
// mistake.
void parse(CLI::App& app, int argc, char** argv) {
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        std::exit(code == 0 ? 0 : 2);
    }
}

}  // namespace

std::string args::text(std::string_view name, std::string fallback, std::string_view help) {
    std::string& value = state_->texts.emplace_back(fallback);
    state_->app.add_option(std::string(name), value, std::string(help))
        ->default_str(std::move(fallback));
    parse(state_->app, state_->argc, state_->argv);
    return value;
}

long args::number(std::string_view name, long fallback, std::string_view help, long least) {
    long& value = state_->numbers.emplace_back(fallback);
    auto* option =
        state_->app.add_option(std::string(name), value, std::string(help))->default_val(fallback);
    if (least != std::numeric_limits<long>::min()) {
        option->check(zpat::cli::at_least(least));
    }
    parse(state_->app, state_->argc, state_->argv);
    return value;
}

void args::check() {
    state_->app.allow_extras(false);
    state_->app.set_help_flag("-h,--help", "Print this help and exit");
    state_->app.set_version_flag("--version", "zpat " + std::string(zpat::version()));
    parse(state_->app, state_->argc, state_->argv);
}

}  // namespace example
