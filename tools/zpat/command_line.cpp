// The zpat tool's command line (command_line.hpp).

#include "command_line.hpp"

#include "at_least.hpp"
#include "duration.hpp"

namespace zpat::cli {
namespace {

void add_endpoint(CLI::App* app, common_settings& s, const std::string& side) {
    app->add_option("endpoint", s.endpoint,
                    "Where to " + side +
                        ": tcp://HOST:PORT, ipc://PATH or inproc://NAME (ZeroMQ), or "
                        "raw+tcp://, raw+tls:// or raw+udp://HOST:PORT (zpat's raw wire format); "
                        "prefix '@' to bind, '>' to connect; comma-separate several")
        ->required();
    app->add_flag("-q,--quiet", s.quiet, "Do not report bound endpoints and timings on stderr");
    add_curve_flags(app, s.curve, curve_sides::both);
    add_tls_flags(app, s.tls, curve_sides::both);
    app->add_flag("--allow-insecure", s.allow_insecure,
                  "Let a raw+tcp:// or raw+udp:// endpoint bind beyond loopback: plain, "
                  "unauthenticated traffic from other machines");
}

void add_body(CLI::App* app, send_settings& s, bool body_positional = true) {
    CLI::Option* text = nullptr;
    if (body_positional) {
        text = app->add_option("message", s.body.text, "The message body");
    }
    auto* file =
        app->add_option("-f,--file", s.body.file, "Send this file's content as one message")
            ->check(CLI::ExistingFile);
    auto* lines = app->add_flag("-l,--lines", s.body.stdin_lines,
                                "Send each line of standard input as a message");
    if (text != nullptr) {
        text->excludes(file)->excludes(lines);
    }
    file->excludes(lines);
    app->add_option("-n,--count", s.count, "Send the message this many times")
        ->check(at_least(s.count, 1L));
    add_duration(app, "-i,--interval", s.interval, "Pause between messages");
}

void add_receive(CLI::App* app, receive_settings& s) {
    app->add_option("-n,--count", s.count, "Exit after this many messages (default: never)")
        ->check(at_least(s.count, 0L));
    add_duration(app, "-t,--timeout", s.timeout,
                 "Exit when no message comes for this long (exit 1 if --count was not reached)");
    auto* raw = app->add_flag_callback(
        "--raw", [&s] { s.format = output_format::raw; },
        "Print the payload bytes exactly, nothing added (no newline between messages)");
    auto* json = app->add_flag_callback(
        "--json", [&s] { s.format = output_format::json; }, "Print one JSON object per message");
    raw->excludes(json);
}

void require_body(CLI::App* app, const send_settings& s) {
    app->callback([app, &s] {
        if (!s.body.text && !s.body.file && !s.body.stdin_lines) {
            throw CLI::ValidationError(app->get_name() + " needs a message, --file or --lines");
        }
    });
}

void define_pub(CLI::App& app, pub_settings& pub) {
    auto* pub_cmd = app.add_subcommand("pub", "Publish messages on a topic (binds by default)");
    add_endpoint(pub_cmd, pub, "publish");
    pub_cmd->add_option("topic", pub.topic, "Topic: frame 0, matched by subscribers' prefixes")
        ->required();
    add_body(pub_cmd, pub);
    pub_cmd
        ->add_option("-w,--wait-subscribers", pub.wait_subscribers,
                     "Wait for this many subscriptions before publishing (0: do not wait)")
        ->capture_default_str()
        ->check(at_least(pub.wait_subscribers, 0L));
    add_duration(pub_cmd, "-t,--timeout", pub.timeout,
                 "Longest wait for subscribers; then exit 1, nothing published (default 5s)");
    require_body(pub_cmd, pub);
    pub_cmd->footer(
        "Exit 0 once the messages are published to the subscribers waited for; 1 if fewer "
        "subscribed within --timeout.\n"
        "Example: zpat pub tcp://127.0.0.1:5556 weather.nyc '21C' -n 10 -i 1s");
}

void define_sub(CLI::App& app, sub_settings& sub) {
    auto* sub_cmd = app.add_subcommand(
        "sub", "Print messages whose topic starts with a prefix (connects by default)");
    add_endpoint(sub_cmd, sub, "subscribe");
    sub_cmd->add_option("topics", sub.topics, "Topic prefixes (default: everything)");
    add_receive(sub_cmd, sub);
    auto* failover = sub_cmd->add_flag(
        "--failover", sub.failover,
        "Take the endpoints as alternatives (a broker pair): listen at one at a time, moving "
        "to the next when it is lost");
    add_duration(sub_cmd, "--failover-timeout", sub.failover_timeout,
                 "A connection not made, or silent, this long is lost (default 1s)")
        ->needs(failover);
    sub_cmd->footer(
        "Example: zpat sub tcp://127.0.0.1:5556 weather.nyc weather.sf --json -n 5\n"
        "Through a broker pair: zpat sub tcp://10.0.0.1:5560,tcp://10.0.0.2:5560 --failover");
}

void define_req(CLI::App& app, req_settings& req) {
    auto* req_cmd = app.add_subcommand(
        "req", "Send a request and print the reply and its round-trip time (connects by default)");
    add_endpoint(req_cmd, req, "send requests");
    add_body(req_cmd, req);
    add_duration(req_cmd, "-t,--timeout", req.timeout,
                 "Wait this long for each reply (default 5s)");
    req_cmd
        ->add_option("-r,--retries", req.retries,
                     "Retries on a fresh connection after a timeout (default 0)")
        ->check(at_least(req.retries, 0));
    require_body(req_cmd, req);
    req_cmd->footer("Example: zpat req tcp://127.0.0.1:5555 Hello -n 3 -t 1s -r 2");
}

void define_rep(CLI::App& app, rep_settings& rep) {
    auto* rep_cmd = app.add_subcommand("rep", "Answer requests, printing each (binds by default)");
    add_endpoint(rep_cmd, rep, "serve");
    auto* echo = rep_cmd->add_flag("-e,--echo", rep.echo, "Answer each request with itself");
    auto* fixed =
        rep_cmd->add_option("-a,--answer", rep.reply, "Answer every request with this text");
    echo->excludes(fixed);
    rep_cmd->add_option("-j,--threads", rep.threads, "Handler threads (default 1)")
        ->check(CLI::Range(1, 256));
    add_receive(rep_cmd, rep);
    rep_cmd->callback([&] {
        if (!rep.echo && !rep.reply) {
            throw CLI::ValidationError("rep needs --echo or --answer TEXT");
        }
    });
    rep_cmd->footer("Example: zpat rep @tcp://127.0.0.1:5555 --answer World -n 1");
}

void define_push(CLI::App& app, send_settings& push) {
    auto* push_cmd =
        app.add_subcommand("push", "Hand messages to pullers, round-robin (connects by default)");
    add_endpoint(push_cmd, push, "push");
    add_body(push_cmd, push);
    add_duration(push_cmd, "-t,--timeout", push.timeout,
                 "Give up, exit 1, when no connected puller takes a message for this long "
                 "(default 5s)");
    require_body(push_cmd, push);
    push_cmd->footer(
        "Exit 0 once every message went to a connected puller; 1 if one found none within "
        "--timeout (messages are never queued for a puller that is not there).\n"
        "Example: seq 1 100 | zpat push tcp://127.0.0.1:5557 --lines");
}

void define_pull(CLI::App& app, receive_settings& pull) {
    auto* pull_cmd =
        app.add_subcommand("pull", "Print messages from pushers, fair-queued (binds by default)");
    add_endpoint(pull_cmd, pull, "pull");
    add_receive(pull_cmd, pull);
    pull_cmd->footer("Example: zpat pull @tcp://127.0.0.1:5558 -n 100 --json");
}

void define_call(CLI::App& app, call_settings& call) {
    auto* call_cmd = app.add_subcommand(
        "call", "Call a service through a Majordomo broker and print the reply (connects)");
    add_endpoint(call_cmd, call, "reach the broker");
    call_cmd->add_option("service", call.service, "The service's name, e.g. echo or mmi.service")
        ->required();
    add_body(call_cmd, call);
    add_duration(call_cmd, "-t,--timeout", call.timeout,
                 "Wait this long for each reply (default 5s)");
    call_cmd
        ->add_option("-r,--retries", call.retries,
                     "Retries on a fresh connection after a timeout (default 2)")
        ->check(at_least(call.retries, 0));
    require_body(call_cmd, call);
    call_cmd->footer(
        "Examples:\n  zpat call tcp://127.0.0.1:5555 echo hello\n"
        "  zpat call tcp://127.0.0.1:5555 mmi.service echo    # 200 when a worker serves echo");
}

void define_worker(CLI::App& app, worker_settings& worker) {
    auto* worker_cmd = app.add_subcommand(
        "worker", "Serve a service behind a Majordomo broker, printing each request (connects)");
    add_endpoint(worker_cmd, worker, "reach the broker");
    worker_cmd->add_option("service", worker.service, "The service to register for")->required();
    auto* worker_echo =
        worker_cmd->add_flag("-e,--echo", worker.echo, "Answer each request with itself");
    auto* worker_answer =
        worker_cmd->add_option("-a,--answer", worker.reply, "Answer every request with this text");
    auto* worker_exec = worker_cmd->add_option(
        "-x,--exec", worker.command,
        "Run this shell command per request: the frames on its stdin, one per line; the reply "
        "is its stdout exactly (a trailing newline stays). A command that fails (non-zero "
        "exit) answers nothing: the client times out and may retry");
    worker_echo->excludes(worker_answer)->excludes(worker_exec);
    worker_answer->excludes(worker_exec);
    add_duration(worker_cmd, "--heartbeat", worker.heartbeat,
                 "Heartbeat interval, as the broker's (default 2.5s)");
    add_receive(worker_cmd, worker);
    worker_cmd->callback([&] {
        if (!worker.echo && !worker.reply && !worker.command) {
            throw CLI::ValidationError("worker needs --echo, --answer TEXT or --exec COMMAND");
        }
    });
    worker_cmd->footer(
        "Examples:\n  zpat worker tcp://127.0.0.1:5555 echo --echo\n"
        "  zpat worker tcp://127.0.0.1:5555 upper --exec 'tr a-z A-Z'");
}

void define_stats(CLI::App& app, stats_settings& stats) {
    auto* stats_cmd =
        app.add_subcommand("stats", "Print a zpat-broker's counters (from its stats endpoint)");
    stats_cmd
        ->add_option("endpoint", stats.endpoint,
                     "The broker's stats endpoint (zpat-broker --stats-endpoint, default "
                     "tcp://127.0.0.1:5570)")
        ->required();
    stats_cmd->add_flag("--prometheus", stats.prometheus,
                        "Print the Prometheus text format instead of JSON");
    add_duration(stats_cmd, "-t,--timeout", stats.timeout, "Wait this long (default 2s)");
    add_curve_flags(stats_cmd, stats.curve, curve_sides::client);
    add_tls_flags(stats_cmd, stats.tls, curve_sides::client);
    stats_cmd->footer("Example: zpat stats tcp://127.0.0.1:5570");
}

void define_bench(CLI::App& app, zpat::bench::settings& bench, std::string& bench_pattern) {
    auto* bench_cmd = app.add_subcommand(
        "bench", "Measure a pattern through zpat against bare libzmq, in the same run");
    bench_cmd
        ->add_option("pattern", bench_pattern,
                     "pipeline, pubsub, reqrep, broker-pubsub (a zpat-broker process against a "
                     "zmq_proxy process), broker-fanout (the same, 1 publisher to 10 "
                     "subscribers), broker-fanin (10 publishers to 1 subscriber, half the "
                     "topics wanted) or broker-mdp (Majordomo echo through a zpat-broker process)")
        ->required()
        ->check(CLI::IsMember({"pipeline", "pubsub", "reqrep", "broker-pubsub", "broker-fanout",
                               "broker-fanin", "broker-mdp"}));
    bench_cmd->add_option("-s,--size", bench.message_size, "Message size in bytes (default 64)")
        ->check(CLI::Range(std::size_t{1}, std::size_t{16} * 1024 * 1024));
    bench_cmd
        ->add_option("-n,--count", bench.count,
                     "Messages (round trips for reqrep) per round, the same for every side "
                     "(default: at least 300000, as many as each side moves in 0.2 s; 10000 "
                     "round trips for reqrep)")
        ->check(at_least(bench.count, decltype(bench.count){1}));
    bench_cmd
        ->add_option("-r,--rounds", bench.rounds,
                     "Rounds of each side; the median is reported (default 21, 11 for reqrep)")
        ->check(CLI::Range(1, 100));
    bench_cmd
        ->add_option("--transport", bench.transport,
                     "tcp, ipc, inproc or raw+tcp (default tcp); the baseline is always libzmq, "
                     "over tcp for raw+tcp")
        ->check(CLI::IsMember({"tcp", "ipc", "inproc", "raw+tcp"}));
    bench_cmd
        ->add_option_function<std::string>(
            "--backend",
            [&bench](const std::string& backend) {
                bench.transport = backend == "raw" ? "raw+tcp" : "tcp";
            },
            "zmq or raw: zpat over ZeroMQ tcp (default) or over raw TCP, against bare libzmq")
        ->check(CLI::IsMember({"zmq", "raw"}))
        ->excludes("--transport");
    bench_cmd->add_flag("--rounds-detail", bench.show_rounds,
                        "Print every round's rate, to judge the spread");
    bench_cmd->add_flag("--json", bench.json,
                        "Print the results as one JSON object (settings, both sides, ratios) "
                        "instead of the table");
    bench_cmd->add_flag("--secure", bench.secure,
                        "Measure zpat with CURVE (tcp, ipc) or TLS (raw+tcp, as raw+tls) "
                        "against zpat without security (pipeline, pubsub, reqrep): what "
                        "encryption and authentication cost");
    bench_cmd->add_option("--broker", bench.broker_program,
                          "The zpat-broker to measure (broker-pubsub, broker-mdp); default: the "
                          "one next to zpat, else on PATH");
    bench_cmd->footer("Example: zpat bench reqrep --size 64 --count 10000");

    // The baseline proxy, run by `zpat bench broker-pubsub` as a process of its own; not listed.
    auto* proxy_cmd = app.add_subcommand("bench-proxy", "zmq_proxy for zpat bench's baseline");
    proxy_cmd->group("");
    proxy_cmd->add_option("--kind", bench.proxy_kind, "zmq_proxy, relay, rep or replier")
        ->check(CLI::IsMember({"zmq_proxy", "relay", "rep", "replier"}));
    proxy_cmd->add_option("--transport", bench.transport, "tcp, ipc or raw+tcp (replier)")
        ->check(CLI::IsMember({"tcp", "ipc", "raw+tcp"}));
}

void define_keygen(CLI::App& app, std::string& name) {
    auto* keygen_cmd =
        app.add_subcommand("keygen", "Write a new CURVE key pair as two certificate files");
    keygen_cmd
        ->add_option("name", name,
                     "Writes NAME (the public certificate, for peers) and NAME_secret (mode "
                     "0600); never over existing files")
        ->required();
    keygen_cmd->footer(
        "Prints the public key. The files are in the format of CZMQ's zcert and pyzmq's "
        "zmq.auth.\n"
        "Example:\n"
        "  zpat keygen server && zpat keygen client && mkdir clients && mv client clients/\n"
        "  zpat rep @tcp://127.0.0.1:5555 --echo --curve-secret server_secret "
        "--curve-allow clients\n"
        "  zpat req tcp://127.0.0.1:5555 hi --curve-secret client_secret --curve-server server");
}

}  // namespace

void define_verbs(CLI::App& app, verb_settings& s) {
    define_pub(app, s.pub);
    define_sub(app, s.sub);
    define_req(app, s.req);
    define_rep(app, s.rep);
    define_push(app, s.push);
    define_pull(app, s.pull);
    define_call(app, s.call);
    define_worker(app, s.worker);
    define_stats(app, s.stats);
    define_bench(app, s.bench, s.bench_pattern);
    define_keygen(app, s.keygen_name);
}

}  // namespace zpat::cli
