#pragma once
// The ZeroMQ Guide's Binary Star pair (chapter 4): the state machine, and the device that runs it
// beside the broker's other devices and gates their client requests.
//
// Each broker of the pair is first "primary" or "backup", as configured, until it hears its peer;
// then one is "active" (serves clients) and the other "passive" (drops their requests). The
// states go to the peer every heartbeat, one frame of the Guide's numbers. The rules:
//  - primary: hearing a backup it becomes active; hearing an active peer, passive; a client
//    request makes it active once the peer has been silent for two heartbeats (a cold start
//    alone), and is refused before then (the backup may be serving after a failover);
//  - backup: hearing an active peer it becomes passive; it refuses every client request;
//  - passive: a peer heard restarting (primary or backup) makes it active; a client request makes
//    it active when the peer has been silent for two heartbeats (the failover), else is refused;
//  - active: stays so.
// The Guide aborts on two actives or two passives; a broker must not, so the pair settles it:
// of two actives the backup gives way, of two passives the primary takes over (counted and
// logged as a split brain).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "device.hpp"
#include "zpat/pubsub.hpp"

namespace zpat::broker::detail {

// The Guide's numbers, which are also the wire format.
enum class pair_state : std::uint8_t { primary = 1, backup = 2, active = 3, passive = 4 };

std::string_view name_of(pair_state s) noexcept;
// One state message from the peer: one frame, "1" to "4". nullopt for anything else.
std::optional<pair_state> parse_pair_state(const message& msg) noexcept;

// The rules above, on a clock the caller passes in; no sockets, no locks.
class pair_machine {
  public:
    using clock = std::chrono::steady_clock;

    // What one event did: the state before and after, and why it changed (empty: it did not).
    struct change {
        pair_state from;
        pair_state to;
        std::string_view why;
        bool split_brain = false;
    };

    pair_machine(bool primary, milliseconds heartbeat, clock::time_point now);

    // The peer said it is in `peer`.
    change on_peer(pair_state peer, clock::time_point now);
    // A client request arrived: true when it is to be served.
    bool on_client_request(clock::time_point now, change& changed);

    pair_state state() const noexcept { return state_; }
    bool primary() const noexcept { return primary_; }

  private:
    change become(pair_state next, std::string_view why, bool split_brain = false);

    bool primary_;
    milliseconds heartbeat_;
    pair_state state_;
    clock::time_point peer_expiry_;  // the peer is presumed gone from then on
};

// The pair as a device: publishes this broker's state every heartbeat, hears the peer's, and is
// the client_gate of the broker's request-reply devices.
class binary_star final : public device, public client_gate {
  public:
    binary_star(const pair_config& cfg, const device_settings& shared);

    bool admit() override;
    bool active() const override { return active_.load(std::memory_order_relaxed); }
    void run(const stop_token& stop) override;
    void report(stats& into) const override;
    void list_connections(std::vector<device_connection>& into) const override;
    std::vector<std::string> frontend() const override { return out_.endpoints(); }
    std::vector<std::string> backend() const override { return in_.endpoints(); }

  private:
    using clock = pair_machine::clock;

    void hear(const message& msg);
    void record(const pair_machine::change& c);  // called with mutex_ held

    pair_config cfg_;
    zpat::publisher out_;
    zpat::subscriber in_;
    mutable std::mutex mutex_;
    pair_machine machine_;                    // under mutex_
    std::optional<pair_state> peer_;          // under mutex_
    std::optional<clock::time_point> heard_;  // under mutex_
    std::atomic<bool> active_{false};         // the common case, read without the lock
    // Written under mutex_, but admitted_, which every gated device adds to on its own thread.
    counter became_active_;
    std::atomic<std::uint64_t> admitted_{0};
    counter refused_;
    counter state_messages_;
    counter malformed_;
    counter split_brains_;
    rate_limited_log refused_log_{"requests refused while not active"};
    rate_limited_log peer_log_{"complaints about the peer"};
};

}  // namespace zpat::broker::detail
