#include "zmtp_xsub.hpp"

#include <algorithm>
#include <array>

namespace zpat::detail {
namespace {

constexpr std::array<std::string_view, 2> xsub_peers{"PUB", "XPUB"};

}  // namespace

zmtp_xsubscriber::zmtp_xsubscriber(const std::vector<endpoint>& binds, const options& opts)
    : zmtp_socket(binds, opts, {"XSUB", xsub_peers, "zmtp xsub"}) {}

zmtp_xsubscriber::~zmtp_xsubscriber() {
    linger();
}

std::string_view zmtp_xsubscriber::next_encoded() {
    if (waiting_.empty()) {
        pump(milliseconds{0});
    }
    while (!waiting_.empty()) {
        publisher& p = *waiting_.front();
        const std::string_view whole = feed(p, {});
        if (!whole.empty()) {
            return whole;
        }
        if (!waiting_.empty() && waiting_.front() == &p) {  // else closed, and gone
            p.waiting = false;
            waiting_.pop_front();
        }
    }
    show_waiting();
    return {};
}

void zmtp_xsubscriber::took_encoded(std::size_t bytes) {
    if (bytes == 0) {
        return;  // nothing, or none of it: the same messages wait at the front
    }
    publisher& p = *waiting_.front();
    p.conn.took(bytes);
    waiting_.pop_front();
    p.waiting = false;
    if (!feed(p, {}).empty()) {
        p.waiting = true;
        waiting_.push_back(&p);  // its turn is over: the next publisher's read goes next
    }
    show_waiting();
}

std::string_view zmtp_xsubscriber::feed(publisher& p, std::string_view bytes) {
    const std::size_t dropped = p.conn.dropped();
    const std::string_view whole = p.conn.take_encoded(bytes);
    oversized_ += p.conn.dropped() - dropped;
    if (!settle(p, !p.conn.closed())) {
        return {};  // closed: `p` is gone
    }
    return whole;
}

bool zmtp_xsubscriber::receive(message& into, milliseconds timeout) {
    const auto deadline = clock::now() + timeout;
    for (;;) {
        const std::string_view whole = next_encoded();
        if (!whole.empty()) {
            const auto m = zmtp::encoded_message::at(whole);
            std::size_t at = zmtp::encoded_message::first_frame_at;
            for (std::size_t i = 0; i < m.frames; ++i) {
                into.assign_frame(i, m.frame(at));
            }
            into.truncate(m.frames);
            took_encoded(m.bytes.size());
            return true;
        }
        milliseconds left = timeout;
        if (timeout != forever) {
            left =
                std::max(milliseconds{0}, std::chrono::ceil<milliseconds>(deadline - clock::now()));
            if (left.count() == 0) {
                return false;
            }
        }
        if (!await_waiting(left)) {
            return false;
        }
    }
}

void zmtp_xsubscriber::send(const message& msg) {
    if (zmtp::is_subscription(msg) && !note(msg)) {
        return;
    }
    for (auto& [fd, p] : connected()) {
        if (!p->greeted) {
            continue;  // it is sent the subscriptions when it is (greeted())
        }
        // A publisher with send_high_water_mark messages unwritten (one that does not read)
        // loses it, as libzmq's XSUB drops at its high-water mark; here it is counted.
        if (full(*p)) {
            dropped_.fetch_add(1, std::memory_order_relaxed);
            continue;
        }
        queue(*p, msg);
        ++p->unwritten;
        if (!p->watching_output) {
            flush(*p);
        }
    }
}

bool zmtp_xsubscriber::note(const message& msg) {
    const std::string_view prefix = std::string_view(msg[0]).substr(1);
    if (msg[0][0] == '\x01') {
        ++subscriptions_.try_emplace(std::string(prefix), 0).first->second;
        return true;
    }
    const auto it = subscriptions_.find(prefix);
    if (it == subscriptions_.end()) {
        return false;
    }
    if (--it->second == 0) {
        subscriptions_.erase(it);
    }
    return true;
}

void zmtp_xsubscriber::queue(peer& p, const message& msg) {
    if (zmtp::is_subscription(msg) && p.conn.peer_minor_version() >= 1) {
        const bool subscribe = msg[0][0] == '\x01';
        p.conn.outgoing() += zmtp::encode_command(subscribe ? "SUBSCRIBE" : "CANCEL",
                                                  std::string_view(msg[0]).substr(1));
    } else {
        zmtp::encode(msg, p.conn.outgoing());
    }
}

void zmtp_xsubscriber::readable(peer& base) {
    auto& p = static_cast<publisher&>(base);
    const auto bytes = receive_from(p);
    if (!bytes) {
        return;  // closed
    }
    if (!feed(p, *bytes).empty() && !p.waiting) {
        p.waiting = true;
        waiting_.push_back(&p);
    }
    show_waiting();
}

void zmtp_xsubscriber::greeted(peer& p) {
    // What the user subscribed to before it came, as libzmq's XSUB replays its subscriptions.
    for (const auto& [prefix, times] : subscriptions_) {
        const message subscribe{'\x01' + prefix};
        for (std::size_t i = 0; i < times; ++i) {
            queue(p, subscribe);
        }
    }
    flush(p);
}

void zmtp_xsubscriber::closing(peer& base) {
    auto& p = static_cast<publisher&>(base);
    if (p.waiting) {
        std::erase(waiting_, &p);
    }
}

}  // namespace zpat::detail
