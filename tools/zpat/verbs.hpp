#pragma once
// The verbs of the zpat command-line tool. main.cpp parses the command line into these settings
// (and is the only file that knows CLI11); each run_* returns the process exit code:
// 0 success, 1 a runtime failure (timeout, no reply, address in use), 2 bad usage.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "curve_flags.hpp"
#include "tls_flags.hpp"
#include "zpat/core/endpoint.hpp"
#include "zpat/core/options.hpp"

namespace zpat::cli {

using std::chrono::milliseconds;

enum class output_format { text, raw, json };

// Where outgoing bodies come from: one message, a file's whole content, or each stdin line.
struct body_source {
    std::optional<std::string> text;
    std::optional<std::string> file;
    bool stdin_lines = false;
};

struct common_settings {
    std::string endpoint;
    bool quiet = false;  // no "bound ..." notes on stderr
    curve_flags curve;
    tls_flags tls;
    bool allow_insecure = false;  // raw binds beyond loopback (options::allow_insecure)
};

struct send_settings : common_settings {
    body_source body;
    long count = 1;              // times to send the body (ignored with stdin lines)
    milliseconds interval{0};    // pause between sends
    milliseconds timeout{5000};  // give up waiting for room / a reply / subscribers
};

struct pub_settings : send_settings {
    std::string topic;
    long wait_subscribers = 1;
};

struct req_settings : send_settings {
    int retries = 0;
};

struct receive_settings : common_settings {
    long count = 0;                       // stop after this many messages; 0: never
    std::optional<milliseconds> timeout;  // fail when no message comes for this long
    output_format format = output_format::text;
};

struct sub_settings : receive_settings {
    std::vector<std::string> topics;
    bool failover = false;
    milliseconds failover_timeout{1000};
};

struct rep_settings : receive_settings {
    bool echo = false;
    std::optional<std::string> reply;
    unsigned threads = 1;
};

// Majordomo: call a service through a broker, or serve one.
struct call_settings : send_settings {
    std::string service;
    int retries = 2;
};

struct worker_settings : receive_settings {
    std::string service;
    bool echo = false;
    std::optional<std::string> reply;
    std::optional<std::string> command;  // run per request: body on stdin, reply from stdout
    milliseconds heartbeat{2500};
};

struct stats_settings : common_settings {
    bool prometheus = false;
    milliseconds timeout{2000};
};

// Throws connection_error naming a host in `endpoints` that its verb would connect to (`side`
// where no '@' or '>' is given) and that does not resolve: said at once, instead of a
// connection that retries in silence and a "no reply" later. A temporary failure of the
// resolver passes, and is left to the retries.
void check_hosts(const std::string& endpoints, zpat::link side);

// `zpat keygen NAME`: writes the certificates NAME and NAME_secret, prints the public key.
int run_keygen(const std::string& name);

int run_pub(const pub_settings& settings);
int run_sub(const sub_settings& settings);
int run_req(const req_settings& settings);
int run_rep(const rep_settings& settings);
int run_push(const send_settings& settings);
int run_pull(const receive_settings& settings);
int run_call(const call_settings& settings);
int run_worker(const worker_settings& settings);
int run_stats(const stats_settings& settings);

}  // namespace zpat::cli
