#pragma once
// distributor: a publisher's fan-out. Each pipe's subscriptions (the commands its subscriber
// sent upstream) sit in a topic trie; a message goes to every pipe with a matching prefix. A
// pipe at its high-water mark loses the message, counted in dropped(); or, with
// `wait_for_room`, the send waits for room at every matching pipe. What one subscriber may
// make it hold is bounded by options::max_subscriptions and max_subscription_prefix.

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "pipe_set.hpp"
#include "raw_relay.hpp"
#include "zpat/core/message.hpp"
#include "zpat/topic_trie.hpp"

namespace zpat::detail {

class distributor {
  public:
    distributor(pipe_set& pipes, const options& limits)
        : pipes_(pipes),
          max_subscriptions_(limits.max_subscriptions),
          max_prefix_(limits.max_subscription_prefix) {}

    // Returns false when `wait_for_room` and some matching pipe had no room within the send
    // timeout.
    bool send(const message& msg, bool wait_for_room) {
        std::unique_lock lock(pipes_.mutex());
        return send_locked(lock, msg, wait_for_room);
    }

    // Sends the whole encoded messages in `encoded` as they are (raw_relay.hpp), under one
    // lock: each to the pipes its topic matches, as send() would. Stops at a message over
    // `limits` (refused), and, with `wait_for_room`, at one that finds a matching pipe full
    // once others have gone, or once the send timeout has passed waiting for the first.
    encoded_sent send_encoded(std::string_view encoded, bool wait_for_room, const options& limits) {
        encoded_sent done;
        std::unique_lock lock(pipes_.mutex());
        std::optional<pipe_set::clock_type::time_point> deadline;
        while (done.bytes < encoded.size()) {
            const auto m = wire::encoded_message::at(encoded.substr(done.bytes));
            if (m.payload > limits.max_message_size || m.frames > limits.max_message_frames) {
                done.refused = true;
                break;
            }
            if (!match(m.first_frame, wait_for_room)) {
                if (done.messages > 0 || !pipes_.wait_for_room(lock, deadline)) {
                    break;
                }
                continue;
            }
            for (pipe* p : matched_) {
                pass_on(*p, m.bytes);
            }
            done.bytes += m.bytes.size();
            done.payload += m.payload;
            ++done.messages;
        }
        for (pipe* p : gathering_) {
            pipes_.write_gathered(*p);
        }
        gathering_.clear();
        return done;
    }

    // ---- the I/O thread, with the mutex held (pipe_events) ----
    // A subscriber's command: one frame, 0x01 (subscribe) or 0x00 (unsubscribe) and a prefix.
    struct command {
        bool subscribe;
        std::string_view prefix;  // into the message parsed
    };
    static std::optional<command> parse(const message& msg) {
        if (msg.size() != 1 || msg[0].empty() || (msg[0][0] != '\x01' && msg[0][0] != '\x00')) {
            return std::nullopt;
        }
        return command{msg[0][0] == '\x01', std::string_view(msg[0]).substr(1)};
    }
    // Why `from` must be cut off rather than take `c`: a limit it would break. Checked before
    // apply().
    drop_reason refusal(const pipe& from, command c) const {
        if (!c.subscribe) {
            return {};
        }
        if (max_prefix_ != 0 && c.prefix.size() > max_prefix_) {
            return drop_reason::limit(
                "a subscription prefix longer than options::max_subscription_prefix");
        }
        if (max_subscriptions_ != 0 && from.subscriptions >= max_subscriptions_) {
            return drop_reason::limit("a subscriber past options::max_subscriptions");
        }
        return {};
    }
    // Applies a subscriber's command. Returns false for an unsubscribe from a prefix `from`
    // does not hold.
    bool apply(pipe& from, command c) {
        if (!c.subscribe) {
            const bool held = subscribers_.remove(c.prefix, &from);
            from.subscriptions -= held ? 1 : 0;
            return held;
        }
        subscribers_.add(c.prefix, &from);
        ++from.subscriptions;
        ++seen_;
        seen_cv_.notify_all();
        return true;
    }
    // Takes what a subscriber sent, which must be (un)subscribe commands within the limits.
    drop_reason take_commands(pipe& from, std::size_t count) {
        for (std::size_t i = 0; i < count; ++i) {
            const auto c = parse(from.stock[i]);
            if (!c) {
                return "a subscriber sent something other than a subscription";
            }
            if (const drop_reason why = refusal(from, *c); why.why != nullptr) {
                return why;
            }
            apply(from, *c);
        }
        return {};
    }
    // A pipe's subscriptions end with its connection: its subscriber replays them when it
    // reconnects. So plain pointers do, and matching costs no reference counting per message.
    void ended(pipe& p) {
        subscribers_.remove_peer(&p);
        p.subscriptions = 0;
    }

    // ---- any thread ----
    std::size_t subscriptions_seen() const {
        std::lock_guard lock(pipes_.mutex());
        return seen_;
    }
    bool wait_for_subscriptions(std::size_t count, milliseconds timeout) {
        std::unique_lock lock(pipes_.mutex());
        const auto enough = [&] { return seen_ >= count; };
        if (timeout == forever) {
            seen_cv_.wait(lock, enough);
            return true;
        }
        return seen_cv_.wait_for(lock, timeout, enough);
    }
    std::uint64_t dropped() const {
        std::lock_guard lock(pipes_.mutex());
        return dropped_;
    }

  private:
    // One walk of the trie finds the subscribers; after a wait for room (the lock was let go,
    // and subscribers may have gone) they are found again.
    bool send_locked(std::unique_lock<std::mutex>& lock, const message& msg, bool wait_for_room) {
        std::optional<pipe_set::clock_type::time_point> deadline;
        while (!match(msg[0], wait_for_room)) {
            if (!pipes_.wait_for_room(lock, deadline)) {
                return false;
            }
        }
        for (pipe* p : matched_) {
            if (pipes_.has_room(*p)) {
                pipes_.enqueue(*p, msg);
            } else {
                ++dropped_;
            }
        }
        return true;
    }

    // One message of a pass-through batch for `p`: to an idle pipe, gathered to be written at
    // the batch's end from this thread (no hand-over to the I/O thread and back); else queued.
    void pass_on(pipe& p, std::string_view encoded) {
        if (!pipes_.has_room(p)) {
            ++dropped_;
            return;
        }
        const bool adjacent = !p.gathered.empty() &&
                              p.gathered.back().data() + p.gathered.back().size() == encoded.data();
        if (!adjacent && p.gathered.size() == pipe_set::max_gathered) {
            pipes_.write_gathered(p);  // gathering starts again if that left it idle
            std::erase(gathering_, &p);
        }
        if (p.gathered_messages == 0 && !pipes_.writable_now(p)) {
            pipes_.enqueue_bytes(p, encoded);
            return;
        }
        if (p.gathered_messages++ == 0) {
            gathering_.push_back(&p);
        }
        p.gathered_bytes += encoded.size();
        if (adjacent) {
            p.gathered.back() = {p.gathered.back().data(),
                                 p.gathered.back().size() + encoded.size()};
        } else {
            p.gathered.push_back(encoded);
        }
    }

    // Finds the subscribers of `topic`. Returns false when `wait_for_room` and one has none.
    bool match(std::string_view topic, bool wait_for_room) {
        matched_.clear();
        subscribers_.match(topic, [&](pipe* p) { matched_.push_back(p); });
        return !wait_for_room || std::all_of(matched_.begin(), matched_.end(),
                                             [&](const pipe* p) { return pipes_.has_room(*p); });
    }

    pipe_set& pipes_;
    std::size_t max_subscriptions_;
    std::size_t max_prefix_;
    // Guarded by the mutex.
    topic_trie<pipe*> subscribers_;
    std::size_t seen_ = 0;
    std::uint64_t dropped_ = 0;
    std::condition_variable seen_cv_;
    std::vector<pipe*> matched_;    // the subscribers of the message being sent
    std::vector<pipe*> gathering_;  // those gathering a pass-through batch (pass_on())
};

}  // namespace zpat::detail
