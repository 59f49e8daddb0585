#include "zmtp_xpub.hpp"

#include <poll.h>

#include <algorithm>
#include <array>
#include <cerrno>

namespace zpat::detail {
namespace {

constexpr std::array<std::string_view, 2> xpub_peers{"SUB", "XSUB"};
// What a subscriber may have kept back by send_encoded() before it is written anyway.
constexpr std::size_t flush_at = std::size_t{64} * 1024;

}  // namespace

zmtp_xpublisher::zmtp_xpublisher(const std::vector<endpoint>& binds, const options& opts)
    : zmtp_socket(binds, opts, {"XPUB", xpub_peers, "zmtp xpub"}) {}

zmtp_xpublisher::~zmtp_xpublisher() {
    inbox_.clear();  // nobody will take them
    write_touched();
    linger();
}

bool zmtp_xpublisher::receive_subscription(message& into, milliseconds timeout) {
    return receive_waiting(into, timeout);
}

bool zmtp_xpublisher::send(const message& msg, bool wait_for_room) {
    if (!match(msg[0], wait_for_room) && !this->wait_for_room(send_deadline())) {
        return false;
    }
    encoded_.clear();
    zmtp::encode(msg, encoded_);
    for (subscriber* s : matched_) {
        queue(*s, encoded_);
    }
    write_touched();
    return true;
}

encoded_sent zmtp_xpublisher::send_encoded(std::string_view encoded, bool wait_for_room,
                                           const options& limits) {
    encoded_sent done;
    std::optional<clock::time_point> deadline;
    while (done.bytes < encoded.size()) {
        const auto m = zmtp::encoded_message::at(encoded.substr(done.bytes));
        if (m.payload > limits.max_message_size || m.frames > limits.max_message_frames) {
            done.refused = true;
            break;
        }
        if (!match(m.first_frame, wait_for_room)) {
            // The messages queued already are written first; the relay comes back for this one.
            if (done.messages > 0) {
                break;
            }
            deadline = deadline ? deadline : send_deadline();
            if (!this->wait_for_room(*deadline)) {
                break;
            }
        }
        for (subscriber* s : matched_) {
            queue(*s, m.bytes);
            if (s->conn.outgoing().size() >= flush_at && !s->watching_output) {
                flush(*s);
            }
        }
        done.bytes += m.bytes.size();
        done.payload += m.payload;
        ++done.messages;
    }
    return done;  // written at flush_queued(), with what comes next
}

void zmtp_xpublisher::readable(peer& base) {
    auto& s = static_cast<subscriber&>(base);
    const auto bytes = receive_from(s);
    if (!bytes) {
        return;  // closed
    }
    std::string refusal;
    const bool open = s.conn.take(*bytes, [&](message& msg) {
        if (refusal.empty()) {
            refusal = take(s, msg);  // those after a refusal are not taken
        }
    });
    if (settle(s, open) && !refusal.empty()) {
        drop(s, refusal, &connection_counts::over_limits);
    }
    show_waiting();
}

std::string zmtp_xpublisher::take(subscriber& s, message& msg) {
    if (!zmtp::is_subscription(msg)) {
        inbox_.push_back(std::move(msg));
        return {};
    }
    const std::string_view prefix = std::string_view(msg[0]).substr(1);
    if (msg[0][0] == '\x01') {
        if (opts().max_subscription_prefix != 0 && prefix.size() > opts().max_subscription_prefix) {
            return "a subscription prefix longer than options::max_subscription_prefix";
        }
        if (opts().max_subscriptions != 0 && s.subscriptions >= opts().max_subscriptions) {
            return "a subscriber past options::max_subscriptions";
        }
        ++s.held.try_emplace(std::string(prefix), 0).first->second;
        ++s.subscriptions;
        subscribers_.add(prefix, &s);
    } else {
        const auto it = s.held.find(prefix);
        if (it == s.held.end()) {
            return {};  // from a prefix it does not hold: nothing changes, nothing to tell
        }
        if (--it->second == 0) {
            s.held.erase(it);
        }
        --s.subscriptions;
        subscribers_.remove(prefix, &s);
    }
    inbox_.push_back(std::move(msg));
    return {};
}

void zmtp_xpublisher::closing(peer& base) {
    auto& s = static_cast<subscriber&>(base);
    for (const auto& [prefix, times] : s.held) {
        for (std::size_t i = 0; i < times; ++i) {
            inbox_.push_back(message{'\x00' + prefix});
        }
    }
    subscribers_.remove_peer(&s);
    std::erase(matched_, &s);
    std::erase(touched_, &s);
    show_waiting();
}

bool zmtp_xpublisher::match(std::string_view topic, bool wait_for_room) {
    matched_.clear();
    subscribers_.match(topic, [this](subscriber* s) { matched_.push_back(s); });
    return !wait_for_room ||
           std::ranges::none_of(matched_, [this](const subscriber* s) { return full(*s); });
}

zmtp_xpublisher::clock::time_point zmtp_xpublisher::send_deadline() const {
    return opts().send_timeout == forever ? clock::time_point::max()
                                          : clock::now() + opts().send_timeout;
}

bool zmtp_xpublisher::wait_for_room(clock::time_point deadline) {
    write_touched();  // what waits to be written is what the wait is for
    // On the subscribers' sockets alone, with poll(2): nothing is read or closed meanwhile, so
    // matched_ stays as it is. Every subscriber with something unwritten is written to as its
    // socket takes it, not only the full ones waited for.
    std::vector<pollfd> writable;
    std::vector<peer*> writing;
    for (;;) {
        if (std::ranges::none_of(matched_, [this](const subscriber* s) { return full(*s); })) {
            return true;
        }
        int wait = -1;
        if (deadline != clock::time_point::max()) {
            const auto left = std::chrono::ceil<milliseconds>(deadline - clock::now());
            if (left.count() <= 0) {
                return false;
            }
            wait = static_cast<int>(left.count());
        }
        writable.clear();
        writing.clear();
        for (const auto& [fd, p] : connected()) {
            if (p->watching_output) {
                writable.push_back({fd, POLLOUT, 0});
                writing.push_back(p.get());
            }
        }
        if (::poll(writable.data(), writable.size(), wait) < 0 && errno != EINTR) {
            return false;
        }
        for (std::size_t i = 0; i < writable.size(); ++i) {
            if ((writable[i].revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) {
                // Gone: what it had queued will not be written; its next read closes it.
                writing[i]->conn.outgoing().clear();
                writing[i]->unwritten = 0;
            }
            if (writable[i].revents != 0) {
                flush(*writing[i]);
            }
        }
    }
}

void zmtp_xpublisher::queue(subscriber& s, std::string_view encoded) {
    if (full(s)) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    s.conn.outgoing().append(encoded);
    ++s.unwritten;
    if (!s.queued) {
        s.queued = true;
        touched_.push_back(&s);
    }
}

void zmtp_xpublisher::write_touched() {
    for (subscriber* s : touched_) {
        s->queued = false;
        if (!s->watching_output) {
            flush(*s);
        }
    }
    touched_.clear();
}

}  // namespace zpat::detail
