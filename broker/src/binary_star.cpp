#include "binary_star.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace zpat::broker::detail {

std::string_view name_of(pair_state s) noexcept {
    switch (s) {
        case pair_state::primary:
            return "primary";
        case pair_state::backup:
            return "backup";
        case pair_state::active:
            return "active";
        case pair_state::passive:
            return "passive";
    }
    return "unknown";
}

std::optional<pair_state> parse_pair_state(const message& msg) noexcept {
    if (msg.size() != 1 || msg[0].size() != 1 || msg[0][0] < '1' || msg[0][0] > '4') {
        return std::nullopt;
    }
    return static_cast<pair_state>(msg[0][0] - '0');
}

pair_machine::pair_machine(bool primary, milliseconds heartbeat, clock::time_point now)
    : primary_(primary),
      heartbeat_(heartbeat),
      state_(primary ? pair_state::primary : pair_state::backup),
      peer_expiry_(now + 2 * heartbeat) {}

pair_machine::change pair_machine::become(pair_state next, std::string_view why, bool split_brain) {
    const change c{state_, next, why, split_brain};
    state_ = next;
    return c;
}

pair_machine::change pair_machine::on_peer(pair_state peer, clock::time_point now) {
    peer_expiry_ = now + 2 * heartbeat_;
    using enum pair_state;
    switch (state_) {
        case primary:
            if (peer == backup) {
                return become(active, "the backup is up: serving as active");
            }
            if (peer == active) {
                return become(passive, "the backup is active: standing by as passive");
            }
            break;
        case backup:
            if (peer == active) {
                return become(passive, "the primary is active: standing by as passive");
            }
            break;
        case active:
            if (peer == active && !primary_) {
                return become(passive, "both brokers were active: the backup gives way", true);
            }
            if (peer == active) {
                return {state_, state_, "both brokers were active: the backup is to give way",
                        true};
            }
            break;
        case passive:
            if (peer == primary || peer == backup) {
                return become(active, "the peer restarted: serving as active");
            }
            if (peer == passive && primary_) {
                return become(active, "both brokers were passive: the primary takes over", true);
            }
            if (peer == passive) {
                return {state_, state_, "both brokers were passive: the primary is to take over",
                        true};
            }
            break;
    }
    return {state_, state_, {}};
}

bool pair_machine::on_client_request(clock::time_point now, change& changed) {
    changed = {state_, state_, {}};
    switch (state_) {
        case pair_state::active:
            return true;
        case pair_state::backup:
            return false;
        case pair_state::primary:
            if (now < peer_expiry_) {
                return false;
            }
            changed = become(pair_state::active, "a client request, and no backup heard: active");
            return true;
        case pair_state::passive:
            if (now < peer_expiry_) {
                return false;
            }
            changed = become(pair_state::active,
                             "a client request while the peer is silent: failed over, active");
            return true;
    }
    return false;
}

namespace {

options link_options(const config& security, bool publishing) {
    options opts{.send_high_water_mark = 10,
                 .receive_high_water_mark = 10,
                 .linger = milliseconds{0},
                 .max_message_size = 64,
                 .max_message_frames = 4,
                 .send_timeout = milliseconds{0}};
    if (security.curve) {
        // Both brokers hold the same key pair: each is the CURVE server its peer connects to.
        opts.curve = *security.curve;
        if (publishing) {
            opts.curve->allowed_clients.push_back(security.curve->keys.public_key);
        } else {
            opts.curve->server_key = security.curve->keys.public_key;
        }
    }
    return opts;
}

}  // namespace

binary_star::binary_star(const pair_config& cfg, const device_settings& shared)
    : cfg_(cfg),
      out_(bind_by_default(cfg.endpoint), link_options(shared.security, true)),
      in_(cfg.peer, {""}, link_options(shared.security, false)),
      machine_(cfg.primary, cfg.heartbeat, clock::now()) {
    spdlog::info("pair: {}, waiting for the peer at {}", cfg.primary ? "primary" : "backup",
                 cfg.peer);
}

bool binary_star::admit() {
    if (active_.load(std::memory_order_relaxed)) {
        admitted_.fetch_add(1, std::memory_order_relaxed);
        return true;
    }
    const std::lock_guard lock(mutex_);
    pair_machine::change changed{};
    const bool served = machine_.on_client_request(clock::now(), changed);
    record(changed);
    if (served) {
        admitted_.fetch_add(1, std::memory_order_relaxed);
    } else {
        refused_.add();
        refused_log_.warn(fmt::format("pair: a client request dropped: this broker is {}",
                                      name_of(machine_.state())));
    }
    return served;
}

void binary_star::record(const pair_machine::change& c) {
    if (c.split_brain) {
        split_brains_.add();
        spdlog::error("pair: {}", c.why);
    }
    if (c.from == c.to) {
        return;
    }
    if (!c.split_brain) {
        spdlog::info("pair: {} -> {}: {}", name_of(c.from), name_of(c.to), c.why);
    }
    if (c.to == pair_state::active) {
        became_active_.add();
    }
    active_.store(c.to == pair_state::active, std::memory_order_relaxed);
}

void binary_star::hear(const message& msg) {
    const std::optional<pair_state> peer = parse_pair_state(msg);
    const std::lock_guard lock(mutex_);
    if (!peer) {
        malformed_.add();
        peer_log_.warn("pair: ignored a state message from the peer that is not \"1\" to \"4\"");
        return;
    }
    state_messages_.add();
    const clock::time_point now = clock::now();
    if (peer == machine_.state() && (peer == pair_state::primary || peer == pair_state::backup)) {
        peer_log_.warn(
            fmt::format("pair: the peer is a {} too: one broker of a pair must be the "
                        "primary and the other the backup",
                        name_of(*peer)));
    }
    peer_ = peer;
    heard_ = now;
    record(machine_.on_peer(*peer, now));
}

void binary_star::run(const stop_token& stop) {
    readiness ready(stop);
    bool heard = false;
    ready.watch(in_, heard);
    clock::time_point send_at = clock::now();
    message msg;
    while (!stop.requested()) {
        if (const clock::time_point now = clock::now(); now >= send_at) {
            pair_state state{};
            {
                const std::lock_guard lock(mutex_);
                state = machine_.state();
            }
            out_.send(message{std::string(1, static_cast<char>('0' + static_cast<int>(state)))});
            send_at = now + cfg_.heartbeat;
        }
        if (!heard) {
            const auto until = std::chrono::ceil<milliseconds>(send_at - clock::now());
            ready.wait(std::clamp(until, milliseconds{0}, cfg_.heartbeat));
        }
        heard = false;
        for (int n = 0; n < burst && in_.receive(msg, milliseconds{0}); ++n) {
            hear(msg);
            heard = n + 1 == burst;
        }
    }
}

void binary_star::report(stats& into) const {
    pair_stats s;
    {
        const std::lock_guard lock(mutex_);
        s.role = machine_.primary() ? "primary" : "backup";
        s.state = name_of(machine_.state());
        s.peer_state = peer_ ? name_of(*peer_) : "unknown";
        if (heard_) {
            s.peer_silent_ms =
                std::chrono::duration_cast<milliseconds>(clock::now() - *heard_).count();
        }
    }
    s.became_active = became_active_.get();
    s.requests_admitted = admitted_.load(std::memory_order_relaxed);
    s.requests_refused = refused_.get();
    s.state_messages = state_messages_.get();
    s.malformed_states = malformed_.get();
    s.split_brains = split_brains_.get();
    into.pair = s;
}

void binary_star::list_connections(std::vector<device_connection>& into) const {
    add_connections(into, "pair", "frontend", out_.open_connections());
    add_connections(into, "pair", "backend", in_.open_connections());
}

}  // namespace zpat::broker::detail
