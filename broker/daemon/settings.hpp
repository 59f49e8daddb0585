#pragma once
// zpat-broker's settings: every flag, which is also a key of the config file (the long flag
// without its dashes), and the broker config they make.

#include <CLI/CLI.hpp>
#include <cstddef>
#include <string>
#include <vector>

#include "curve_flags.hpp"
#include "tls_flags.hpp"
#include "zpat/broker/broker.hpp"

namespace zpat::broker::daemon {

struct settings {
    bool no_service = false;
    bool no_forwarder = false;
    bool no_streamer = false;
    bool queue = false;  // off unless asked for
    bool pirate = false;
    zpat::broker::service_config service;
    zpat::broker::forwarder_config forwarder;
    zpat::broker::streamer_config streamer;
    zpat::broker::queue_config queue_device;
    zpat::broker::pirate_config pirate_device;
    std::string role;  // "primary" or "backup" of a Binary Star pair; empty: alone
    zpat::broker::pair_config pair;
    std::size_t max_message_size = std::size_t{16} * 1024 * 1024;
    std::size_t max_message_frames = 1024;
    std::size_t max_memory = 0;  // 0: no budget
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

// Defines every flag of zpat-broker on `app`, read into `s`.
void define(CLI::App& app, settings& s);
// Checks what can be checked without binding: every endpoint parses, names a known scheme, and
// its backend builds the role the broker puts there. Throws: CLI::ValidationError naming the
// flag.
zpat::broker::config to_config(const settings& s);

}  // namespace zpat::broker::daemon
