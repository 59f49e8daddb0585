#pragma once
// What one benchmark round measures, and the helpers every bench side shares.

#include <sys/resource.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

namespace zpat::bench {

struct result {
    long delivered = 0;
    double seconds = 0;
    // User + system time of the whole process, all threads, over the timed window only: set-up
    // and teardown (connecting, starting and joining threads) are not counted.
    double cpu_seconds = 0;
    // The same for the process in the middle (a broker or proxy run apart), -1 when none.
    double middle_cpu_seconds = -1;
    // Messages that should have arrived, all receivers together; 0: the settings' count.
    long expected = 0;
    std::vector<double> latencies_us;  // request-reply only
};

// User + system CPU seconds the process has used so far, every thread together.
inline double process_cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const auto seconds = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Wall-clock and CPU time from construction to stop(), into a result: the timed window.
class timed_window {
  public:
    timed_window() = default;
    void stop(result& into) const {
        into.seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
        into.cpu_seconds = process_cpu_seconds() - cpu_start_;
    }

  private:
    double cpu_start_ = process_cpu_seconds();
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
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

// The value at `p` (0 to 1) of `values` in order: 0.5 the median. 0 when there are none.
double percentile(std::vector<double> values, double p);

// Times `count` calls of send_one while a thread counts messages arriving through
// receive_one (which returns false when none came within the idle limit).
// The window opens as the receiver thread starts and closes when the last message arrived.
template <class Send, class Receive>
result timed_stream(long count, Send send_one, Receive receive_one) {
    result r;
    const timed_window window;
    std::thread receiver([&] {
        while (r.delivered < count && receive_one()) {
            ++r.delivered;
        }
        window.stop(r);
    });
    for (long i = 0; i < count; ++i) {
        send_one();
    }
    receiver.join();
    return r;
}

// Times `count` round trips one at a time, each made by `round_trip` (which returns false when
// no reply came): each one's latency, and the window around them all.
template <class RoundTrip>
result timed_round_trips(long count, RoundTrip round_trip) {
    using clock = std::chrono::steady_clock;
    result r;
    r.latencies_us.reserve(static_cast<std::size_t>(count));
    const timed_window window;
    for (long i = 0; i < count; ++i) {
        const auto sent = clock::now();
        if (!round_trip()) {
            break;
        }
        r.latencies_us.push_back(
            std::chrono::duration<double, std::micro>(clock::now() - sent).count());
        ++r.delivered;
    }
    window.stop(r);
    return r;
}

}  // namespace zpat::bench
