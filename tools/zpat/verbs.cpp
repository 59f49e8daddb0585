// The verbs of the zpat tool, written against the public zpat API only.

#include "verbs.hpp"

#include <netdb.h>
#include <sys/wait.h>
#include <unistd.h>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <mutex>
#include <sstream>
#include <thread>

#include "idle_watchdog.hpp"
#include "output.hpp"
#include "stop_signals.hpp"
#include "zpat/zpat.hpp"

namespace zpat::cli {
namespace {

using clock = std::chrono::steady_clock;

std::string seconds_text(milliseconds duration) {
    std::ostringstream out;
    out << static_cast<double>(duration.count()) / 1000.0 << "s";
    return out.str();
}

}  // namespace

void check_hosts(const std::string& endpoints, zpat::link side) {
    for (const endpoint& ep : parse_endpoints(endpoints, side)) {
        if (ep.side != link::connect || ep.scheme == "ipc" || ep.scheme == "inproc") {
            continue;
        }
        std::string host = ep.address.substr(0, ep.address.rfind(':'));
        if (host.size() > 1 && host.front() == '[' && host.back() == ']') {
            host = host.substr(1, host.size() - 2);
        }
        addrinfo hints{};
        hints.ai_socktype = ep.scheme == "raw+udp" ? SOCK_DGRAM : SOCK_STREAM;
        addrinfo* found = nullptr;
        const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &found);
        if (rc == 0) {
            ::freeaddrinfo(found);
        } else if (rc != EAI_AGAIN) {
            throw connection_error("cannot connect to '" + ep.url() + "': host '" + host +
                                   "' does not resolve (" + ::gai_strerror(rc) + ")");
        }
    }
}

namespace {

// Tells the user where a role that binds is listening (the real port, for ":*").
void note_bound(const char* verb, const common_settings& settings, link default_side,
                const std::vector<std::string>& in_use) {
    if (settings.quiet) {
        return;
    }
    const auto requested = parse_endpoints(settings.endpoint, default_side);
    for (std::size_t i = 0; i < requested.size() && i < in_use.size(); ++i) {
        if (requested[i].side == link::bind) {
            std::cerr << "zpat " << verb << ": bound " << in_use[i] << std::endl;
        }
    }
}

// Prints a reply on stdout and, unless `quiet`, its round-trip time on stderr.
void print_reply(const char* verb, const message& reply,
                 std::chrono::duration<double, std::milli> elapsed, bool quiet) {
    print_message(reply, output_format::text, false);
    if (!quiet) {
        std::ostringstream rtt;
        rtt.precision(3);
        rtt << std::fixed << elapsed.count();
        std::cerr << "zpat " << verb << ": reply in " << rtt.str() << " ms\n";
    }
}

// Calls `send_one` with each body the settings describe, pausing `interval` between sends.
// Returns: 0, or 1 when `send_one` fails or the file cannot be read.
int for_each_body(const char* verb, const send_settings& settings,
                  const std::function<bool(const std::string&)>& send_one) {
    bool first = true;
    auto send = [&](const std::string& body) {
        if (!first && settings.interval.count() > 0) {
            std::this_thread::sleep_for(settings.interval);
        }
        first = false;
        return send_one(body);
    };
    if (settings.body.stdin_lines) {
        std::string line;
        while (std::getline(std::cin, line)) {
            if (!send(line)) {
                return 1;
            }
        }
        return 0;
    }
    std::string body;
    if (settings.body.file) {
        std::ifstream in(*settings.body.file, std::ios::binary);
        if (!in) {
            std::cerr << "zpat " << verb << ": cannot read file '" << *settings.body.file << "'\n";
            return 1;
        }
        body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    } else {
        body = settings.body.text.value_or("");
    }
    for (long i = 0; i < settings.count; ++i) {
        if (!send(body)) {
            return 1;
        }
    }
    return 0;
}

// Receives with `receive_one` until the count is reached or nothing comes within the timeout.
int receive_loop(const char* verb, const receive_settings& settings, bool has_topic,
                 const std::function<bool(message&, milliseconds)>& receive_one) {
    message msg;
    long received = 0;
    while (settings.count == 0 || received < settings.count) {
        if (!receive_one(msg, settings.timeout.value_or(forever))) {
            if (!settings.timeout) {
                return 1;  // interrupted by a signal
            }
            const bool short_of_count = settings.count > 0 || received == 0;
            if (short_of_count) {
                std::cerr << "zpat " << verb << ": no message for "
                          << seconds_text(*settings.timeout) << " (received " << received << ")\n";
            }
            return short_of_count ? 1 : 0;
        }
        print_message(msg, settings.format, has_topic);
        ++received;
    }
    return 0;
}

// `opts` with the security the flags ask for: CURVE (--curve-*), TLS (--tls-*) and
// --allow-insecure. Throws: security_error and option_error naming the flag's file or value.
options secured(const common_settings& settings, options opts = {}) {
    opts.curve = curve_of(settings.curve);
    opts.tls = tls_of(settings.tls);
    opts.allow_insecure = settings.allow_insecure;
    return opts;
}

}  // namespace

int run_pub(const pub_settings& settings) {
    publisher pub(settings.endpoint, secured(settings));
    note_bound("pub", settings, link::bind, pub.endpoints());
    // Success is being heard: with nobody subscribed, what is published goes nowhere.
    const auto wanted = static_cast<std::size_t>(settings.wait_subscribers);
    if (wanted > 0 && !pub.wait_for_subscriptions(wanted, settings.timeout)) {
        std::cerr << "zpat pub: " << pub.subscriptions_seen() << " of " << wanted
                  << " subscription(s) within " << seconds_text(settings.timeout)
                  << ": nothing published (-w 0 publishes to whoever is there)\n";
        return 1;
    }
    return for_each_body("pub", settings, [&](const std::string& body) {
        return pub.publish(settings.topic, body);
    });
}

int run_sub(const sub_settings& settings) {
    subscriber sub(settings.endpoint, {},
                   secured(settings, {.failover = settings.failover,
                                      .failover_timeout = settings.failover_timeout}));
    note_bound("sub", settings, link::connect, sub.endpoints());
    if (settings.topics.empty()) {
        sub.subscribe("");
    }
    for (const auto& topic : settings.topics) {
        sub.subscribe(topic);
    }
    const int status = receive_loop(
        "sub", settings, true, [&](message& msg, milliseconds t) { return sub.receive(msg, t); });
    if (sub.lost_messages() > 0) {
        std::cerr << "zpat sub: " << sub.lost_messages()
                  << " message(s) lost on the way (gaps in the publisher's sequence numbers)\n";
    }
    return status;
}

int run_push(const send_settings& settings) {
    // Success is a puller taking each message: queued only to complete connections (immediate),
    // a message waits --timeout for a puller and fails instead of waiting for one that may never
    // come. (An inproc peer would be in this process: there is none to wait for.)
    const bool inproc = settings.endpoint.find("inproc://") != std::string::npos;
    pusher push(settings.endpoint,
                secured(settings, {.send_timeout = settings.timeout, .immediate = !inproc}));
    note_bound("push", settings, link::connect, push.endpoints());
    return for_each_body("push", settings, [&](const std::string& body) {
        if (push.send(message{body})) {
            return true;
        }
        std::cerr << "zpat push: no puller connected and took the message within "
                  << seconds_text(settings.timeout) << "\n";
        return false;
    });
}

int run_pull(const receive_settings& settings) {
    puller pull(settings.endpoint, secured(settings));
    note_bound("pull", settings, link::bind, pull.endpoints());
    return receive_loop("pull", settings, false,
                        [&](message& msg, milliseconds t) { return pull.receive(msg, t); });
}

int run_req(const req_settings& settings) {
    requester req(settings.endpoint, secured(settings, {.request_timeout = settings.timeout,
                                                        .retries = settings.retries}));
    note_bound("req", settings, link::connect, req.endpoints());
    return for_each_body("req", settings, [&](const std::string& body) {
        const auto start = clock::now();
        auto reply = req.request(message{body});
        const auto elapsed = std::chrono::duration<double, std::milli>(clock::now() - start);
        if (!reply) {
            std::cerr << "zpat req: no reply from " << settings.endpoint << " after "
                      << req.last_attempts() << " attempt(s) of " << seconds_text(settings.timeout)
                      << "\n";
            return false;
        }
        print_reply("req", *reply, elapsed, settings.quiet);
        return true;
    });
}

int run_rep(const rep_settings& settings) {
    replier rep(settings.endpoint, secured(settings));
    note_bound("rep", settings, link::bind, rep.endpoints());

    std::atomic<long> answered{0};
    const message fixed{settings.reply.value_or("")};
    // Stops the replier when nothing has come for the timeout.
    idle_watchdog watchdog(settings.timeout, [&] { rep.stop(); });
    rep.serve(
        [&](message request) {
            watchdog.touch();
            print_message(request, settings.format, false);
            const long done = ++answered;
            if (settings.count > 0 && done >= settings.count) {
                rep.stop();
            }
            if (settings.echo) {
                return request;
            }
            return message(fixed);
        },
        settings.threads);

    const bool idle_timeout = watchdog.finish();
    if (idle_timeout && (settings.count > 0 || answered == 0)) {
        std::cerr << "zpat rep: no request for " << seconds_text(*settings.timeout) << " (answered "
                  << answered << ")\n";
        return 1;
    }
    return 0;
}

int run_call(const call_settings& settings) {
    service_client client(settings.endpoint, secured(settings, {.request_timeout = settings.timeout,
                                                                .retries = settings.retries}));
    return for_each_body("call", settings, [&](const std::string& body) {
        const auto start = clock::now();
        auto reply = client.request(settings.service, message{body});
        const auto elapsed = std::chrono::duration<double, std::milli>(clock::now() - start);
        if (!reply) {
            std::cerr << "zpat call: no reply from service '" << settings.service << "' at "
                      << settings.endpoint << " after " << client.last_attempts()
                      << " attempt(s) of " << seconds_text(settings.timeout) << "\n";
            return false;
        }
        print_reply("call", *reply, elapsed, settings.quiet);
        return true;
    });
}

namespace {

// Runs `command` with /bin/sh, `input` on its standard input; returns its standard output, or
// nullopt (with a note on stderr) when it cannot run or exits non-zero.
std::optional<std::string> run_command(const std::string& command, const std::string& input) {
    int to_child[2];
    int from_child[2];
    if (::pipe(to_child) != 0 || ::pipe(from_child) != 0) {
        std::cerr << "zpat worker: pipe: " << std::strerror(errno) << "\n";
        return std::nullopt;
    }
    const pid_t pid = ::fork();
    if (pid == 0) {
        stop_signals::unblock_in_child();
        ::dup2(to_child[0], STDIN_FILENO);
        ::dup2(from_child[1], STDOUT_FILENO);
        for (int fd : {to_child[0], to_child[1], from_child[0], from_child[1]}) {
            ::close(fd);
        }
        ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    ::close(to_child[0]);
    ::close(from_child[1]);
    // Feed the input from another thread, so a command that writes before it has read
    // everything cannot deadlock against us.
    std::thread feeder([fd = to_child[1], &input] {
        std::size_t done = 0;
        while (done < input.size()) {
            const auto n = ::write(fd, input.data() + done, input.size() - done);
            if (n <= 0) {
                break;
            }
            done += static_cast<std::size_t>(n);
        }
        ::close(fd);
    });
    std::string output;
    char buffer[4096];
    for (;;) {
        const auto n = ::read(from_child[0], buffer, sizeof buffer);
        if (n <= 0) {
            break;
        }
        output.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(from_child[0]);
    feeder.join();
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::cerr << "zpat worker: '" << command << "' "
                  << (pid < 0 ? "could not start"
                      : WIFSIGNALED(status)
                          ? "was killed by signal " + std::to_string(WTERMSIG(status))
                          : "exited with status " + std::to_string(WEXITSTATUS(status)))
                  << "; the request is not answered\n";
        return std::nullopt;
    }
    return output;  // exactly: a trailing newline the command printed stays in the reply
}

}  // namespace

int run_worker(const worker_settings& settings) {
    // Ctrl-C or SIGTERM stops the worker, which then tells the broker it is leaving
    // (DISCONNECT) instead of staying registered until it expires.
    std::atomic<service_worker*> stoppable{nullptr};
    const stop_signals signals([&](int) {
        if (service_worker* w = stoppable.load()) {
            w->stop();
        }
    });
    service_worker worker(settings.endpoint, settings.service,
                          secured(settings, {.heartbeat_interval = settings.heartbeat}));
    stoppable = &worker;
    if (!settings.quiet) {
        std::cerr << "zpat worker: serving '" << settings.service << "' through "
                  << settings.endpoint << std::endl;
    }
    long answered = 0;
    while (settings.count == 0 || answered < settings.count) {
        auto request = signals.received() == 0 ? worker.receive(settings.timeout.value_or(forever))
                                               : std::nullopt;
        if (signals.received() != 0) {
            if (!settings.quiet) {
                std::cerr << "zpat worker: " << strsignal(signals.received())
                          << ": leaving the broker (answered " << answered << ")\n";
            }
            return 0;
        }
        if (!request) {
            std::cerr << "zpat worker: no request for " << seconds_text(*settings.timeout)
                      << " (answered " << answered << ")\n";
            return answered > 0 && settings.count == 0 ? 0 : 1;
        }
        print_message(*request, settings.format, false);
        if (settings.command) {
            std::string input;
            for (const std::string& frame : *request) {
                input += (input.empty() ? "" : "\n") + frame;
            }
            auto output = run_command(*settings.command, input);
            if (!output) {
                worker.abandon();  // the client times out and may retry elsewhere
                continue;
            }
            worker.reply(message{*output});
        } else {
            worker.reply(settings.echo ? *request : message{settings.reply.value_or("")});
        }
        ++answered;
    }
    return 0;
}

int run_stats(const stats_settings& settings) {
    requester req(settings.endpoint, {.request_timeout = settings.timeout,
                                      .retries = 0,
                                      .curve = curve_of(settings.curve, curve_sides::client),
                                      .tls = tls_of(settings.tls)});
    auto reply = req.request(message{settings.prometheus ? "prometheus" : "json"});
    if (!reply || reply->empty()) {
        std::cerr << "zpat stats: no answer from " << settings.endpoint << " within "
                  << seconds_text(settings.timeout) << " (is a broker's stats endpoint there?)\n";
        return 1;
    }
    std::cout << reply->front();
    if (!reply->front().ends_with('\n')) {
        std::cout << '\n';
    }
    return 0;
}

}  // namespace zpat::cli
