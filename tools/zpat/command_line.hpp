#pragma once
// The zpat tool's command line: every verb's flags, parsed by CLI11 into the verbs' settings.
// This file and main.cpp are the only ones that know CLI11.

#include <CLI/CLI.hpp>
#include <string>

#include "bench.hpp"
#include "verbs.hpp"

namespace zpat::cli {

// What the command line says, for every verb: CLI11 fills the chosen verb's part.
struct verb_settings {
    pub_settings pub;
    sub_settings sub;
    req_settings req;
    rep_settings rep;
    send_settings push;
    receive_settings pull;
    call_settings call;
    worker_settings worker;
    stats_settings stats;
    zpat::bench::settings bench;
    std::string bench_pattern;
    std::string keygen_name;
};

// Defines every verb on `app`, filling `s` when it is parsed.
void define_verbs(CLI::App& app, verb_settings& s);

}  // namespace zpat::cli
