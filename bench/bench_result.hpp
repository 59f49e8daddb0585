#pragma once
// What one benchmark round measures, and the helpers every bench side shares.

#include <chrono>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

namespace zpat::bench {

struct result {
    long delivered = 0;
    double seconds = 0;
    double cpu_seconds = 0;            // user + system time of the whole process, all threads
    std::vector<double> latencies_us;  // request-reply only
};

// How long a receiver waits for the next message before declaring the rest lost.
inline constexpr std::chrono::seconds idle_limit{2};

// The baseline's context lives as long as the run, like zpat's and like any real program's: a
// fresh context per round gets a fresh I/O thread, which the scheduler places differently, and
// that alone moved results by 2x on a two-core machine.
zmq::context_t& baseline_context();

// An address to bind on `transport` ("tcp", "ipc", "inproc", "raw+tcp"); the port is ephemeral.
std::string bind_address(const std::string& transport);
// The baseline is libzmq: for raw+tcp it runs over ZeroMQ's tcp.
std::string baseline_address(const std::string& transport);

struct settings;
// Round trips one at a time between bare libzmq REQ and REP sockets: the request-reply baseline.
result bare_reqrep(const settings& s, const std::string& payload);

// Times `count` calls of send_one while a thread counts messages arriving through
// receive_one (which returns false when none came within the idle limit).
template <class Send, class Receive>
result timed_stream(long count, Send send_one, Receive receive_one) {
    result r;
    std::thread receiver([&] {
        while (r.delivered < count && receive_one()) {
            ++r.delivered;
        }
    });
    const auto start = std::chrono::steady_clock::now();
    for (long i = 0; i < count; ++i) {
        send_one();
    }
    receiver.join();
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return r;
}

}  // namespace zpat::bench
