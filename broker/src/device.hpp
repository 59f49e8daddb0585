#pragma once
// What the broker's devices share: counters that one thread writes and any thread reads, the
// stop token that wakes a device blocked in poll, and the device interface itself.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "memory_budget.hpp"
#include "zpat/broker/broker.hpp"
#include "zpat/core/message.hpp"
#include "zpat/core/wake_signal.hpp"
#include "zpat/poller.hpp"
#include "zpat/relay.hpp"

namespace zpat::broker::detail {

// A counter with a single writer: the add is a plain load and store (no locked instruction on
// the hot path), and readers on other threads still see whole values.
class counter {
  public:
    void add(std::uint64_t n = 1) noexcept {
        value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    void set(std::uint64_t n) noexcept { value_.store(n, std::memory_order_relaxed); }
    std::uint64_t get() const noexcept { return value_.load(std::memory_order_relaxed); }

  private:
    std::atomic<std::uint64_t> value_{0};
};

struct traffic_counters {
    counter messages_in;
    counter bytes_in;
    counter messages_out;
    counter bytes_out;
    counter dropped_full;
    counter dropped_oversized;
    counter dropped_malformed;

    traffic snapshot() const;
};

// Wakes every device thread: a wake_signal, raised once stop is requested and never cleared, so
// it wakes every poll that includes it. request() is async-signal-safe.
class stop_token {
  public:
    void request() noexcept {
        requested_.store(true);
        wake_.raise();
    }
    bool requested() const noexcept { return requested_.load(); }
    int fd() const noexcept { return wake_.fd(); }

  private:
    wake_signal wake_;
    std::atomic<bool> requested_{false};
};

// Waits until one of a device's roles has something to receive, or the stop token is readable.
class readiness {
  public:
    explicit readiness(const stop_token& stop) {
        poller_.add_descriptor(stop.fd(), [] {});
    }
    readiness(const readiness&) = delete;
    readiness& operator=(const readiness&) = delete;

    // Marks which role is ready: `flag` is set when `role` is.
    template <class Role>
    void watch(const Role& role, bool& flag) {
        poller_.add(role, [&flag] { flag = true; });
    }
    // Stops watching `role`, whose flag is then left as it is.
    template <class Role>
    void unwatch(const Role& role) {
        poller_.remove(role);
    }
    // Waits up to `timeout`; the flags of the roles that are ready are set (and none cleared).
    void wait(std::chrono::milliseconds timeout) { poller_.run_once(timeout); }

  private:
    zpat::poller poller_;
};

// Appends `connections`, one side of `device`, to `into`.
void add_connections(std::vector<device_connection>& into, const char* device, const char* side,
                     std::vector<connection_info> connections);

// Endpoints a device binds unless the user wrote '>' (connect) or '@' before them.
std::string bind_by_default(std::string_view endpoints);

// Logs at warning level at most once a second per kind, with how many were suppressed, so a
// peer that floods garbage cannot flood the log.
class rate_limited_log {
  public:
    explicit rate_limited_log(std::string kind) : kind_(std::move(kind)) {}
    void warn(const std::string& what);

  private:
    std::string kind_;
    std::chrono::steady_clock::time_point next_{};
    std::uint64_t suppressed_ = 0;
};

// A table that the device thread rebuilds and other threads copy, under a mutex.
template <class Table>
class published {
  public:
    void publish(Table table) {
        const std::lock_guard lock(mutex_);
        table_ = std::move(table);
    }
    Table read() const {
        const std::lock_guard lock(mutex_);
        return table_;
    }

  private:
    mutable std::mutex mutex_;
    Table table_{};
};

// How often a device republishes its tables and runs its housekeeping.
inline constexpr std::chrono::milliseconds tick{100};

// Messages a device moves per wake-up before it looks at its other work and the stop token.
inline constexpr int burst = 1000;

// Moves up to a burst of messages with `link`, counting them. A message that finds no room
// within the destination's send timeout (its high-water mark) is held and tried again until it
// goes or the device stops. Returns whether the burst ended with nothing left waiting.
inline bool relay_burst(zpat::relay& link, traffic_counters& counts, const stop_token& stop,
                        const frame_watch& watch = {}, watched_frames which = watched_frames::all) {
    for (int moved = 0; moved < burst;) {
        const relayed step = link.step(watch, which);
        if (step.what == relayed::idle) {
            return true;
        }
        if (step.what == relayed::held) {
            if (stop.requested()) {
                return true;
            }
            continue;
        }
        moved += static_cast<int>(step.messages);
        counts.messages_in.add(step.messages);
        counts.bytes_in.add(step.bytes);
        counts.messages_out.add(step.messages);
        counts.bytes_out.add(step.bytes);
    }
    return false;
}

class device {
  public:
    virtual ~device() = default;
    // Runs on the device's own thread until `stop` is requested.
    virtual void run(const stop_token& stop) = 0;
    // Adds this device's counters to `into`; safe from any thread.
    virtual void report(stats& into) const = 0;
    // Appends this device's open connections to `into`; safe from any thread.
    virtual void list_connections(std::vector<device_connection>& into) const = 0;
    // The addresses in use on each side (the service broker has only a frontend).
    virtual std::vector<std::string> frontend() const = 0;
    virtual std::vector<std::string> backend() const { return {}; }
};

// Whether a client request may be served now: in a Binary Star pair, only while this broker is
// the active one (binary_star.hpp). Called from any device's thread.
class client_gate {
  public:
    // A client request arrived: true to serve it, false to drop it. It may make this broker
    // the active one (a failover).
    virtual bool admit() = 0;
    // Whether this broker serves clients now, without counting a request.
    virtual bool active() const = 0;

  protected:
    client_gate() = default;
    ~client_gate() = default;
    client_gate(const client_gate&) = default;
    client_gate& operator=(const client_gate&) = default;
};

// True when a client request may be served now: always outside a pair (no gate).
inline bool admit(client_gate* gate) {
    return gate == nullptr || gate->admit();
}

// What every device takes from the broker's config: the largest message it accepts
// (config::max_message_size and max_message_frames), its endpoints' security, in a pair the
// gate its client requests pass, and the memory budget that new work is refused past.
struct device_settings {
    std::size_t bytes = 0;
    std::size_t frames = 0;
    config security;  // curve, tls and allow_insecure
    client_gate* gate = nullptr;
    memory_budget* memory = nullptr;  // never null in a broker's devices

    // True when new work must be refused: the budget is reached (counted there).
    bool out_of_memory() const { return memory != nullptr && memory->exhausted(); }

    options secured(const options& opts, std::string_view endpoints) const {
        return zpat::broker::secured(security, opts, endpoints);
    }
};

std::unique_ptr<device> make_forwarder(const forwarder_config& cfg, const device_settings& shared);
std::unique_ptr<device> make_streamer(const streamer_config& cfg, const device_settings& shared);
std::unique_ptr<device> make_service_broker(const service_config& cfg,
                                            const device_settings& shared);
std::unique_ptr<device> make_queue(const queue_config& cfg, const device_settings& shared);
std::unique_ptr<device> make_pirate_queue(const pirate_config& cfg, const device_settings& shared);

}  // namespace zpat::broker::detail
