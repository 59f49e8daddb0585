// Subscriber and xsubscriber on raw TCP: each tells every publisher it reaches its prefixes
// (again after each reconnect) and filters locally too, so an unsubscribe takes effect at once:
// what already arrived for a dropped prefix is held back, as libzmq's SUB filters at receive.
// The xsubscriber takes its subscriptions as messages (a forwarder passes its subscribers' on);
// raw publishers hear nothing else from subscribers, so it refuses any other message.

#include <string>

#include "prefix_set.hpp"
#include "raw_cells.hpp"
#include "raw_relay.hpp"
#include "zpat/core/error.hpp"

namespace zpat::detail {
namespace {

template <class Interface>
class raw_subscribing : public raw_receiving_cell<Interface>, private pipe_events {
  protected:
    using raw_receiving_cell<Interface>::pipes_;
    using raw_receiving_cell<Interface>::inbox_;

  public:
    raw_subscribing(const std::vector<endpoint>& endpoints, const options& opts, inbox::taking how)
        : raw_receiving_cell<Interface>(wire::role::subscriber, endpoints, opts, how),
          encoded_(how == inbox::taking::encoded_batches) {
        if (encoded_) {
            pipes_->deliver_encoded();
        }
    }
    ~raw_subscribing() override = default;
    raw_subscribing(const raw_subscribing&) = delete;
    raw_subscribing& operator=(const raw_subscribing&) = delete;

  protected:
    // The most-derived class calls start_pipes() in its constructor and close_pipes() first in
    // its destructor: the I/O thread calls this object's pipe_events from start to close, and
    // must not meet it half built or half destroyed (its vtable pointer is rewritten as each
    // class's constructor or destructor begins; TSan saw both races).
    void start_pipes() { pipes_->start(*this); }
    void close_pipes() { pipes_->close(); }

    void add_prefix(std::string_view prefix) {
        std::lock_guard lock(pipes_->mutex());
        prefixes_.add(prefix);
        tell_publishers('\x01', prefix);
    }

    void drop_prefix(std::string_view prefix) {
        std::lock_guard lock(pipes_->mutex());
        if (!prefixes_.remove(prefix)) {
            return;
        }
        tell_publishers('\x00', prefix);
        inbox_.remove_topics_if([&](std::string_view topic) { return !prefixes_.matches(topic); });
    }

  private:
    // With the mutex held.
    void tell_publishers(char command, std::string_view prefix) {
        const message msg{std::string(1, command) + std::string(prefix)};
        for (const pipe_ptr& p : pipes_->peers()) {
            pipes_->enqueue(*p, msg);
        }
    }

    // A publisher starts knowing nothing of us: tell it every subscription, once.
    void greeted(pipe& p) override {
        pipes_->discard_queued(p);
        for (const std::string& prefix : prefixes_.list()) {
            pipes_->enqueue(p, message{"\x01" + prefix});
        }
    }
    // What was sent before our unsubscribe reached the publisher is dropped here.
    drop_reason arrived(pipe& p, std::size_t count) override {
        if (encoded_) {
            encoded_batch::compact(
                p.stock[0], 0, [&](std::string_view topic) { return !prefixes_.matches(topic); });
            inbox_.accept(p, encoded_batch::bytes(p.stock[0]).empty() ? 0 : 1, count);
            return nullptr;
        }
        std::size_t kept = 0;
        for (std::size_t i = 0; i < count; ++i) {
            if (prefixes_.matches(p.stock[i][0])) {
                std::swap(p.stock[kept++], p.stock[i]);
            }
        }
        inbox_.accept(p, kept, count);
        return nullptr;
    }
    bool full(const pipe& p) override { return inbox_.full(p); }
    void ended(pipe& p) override { inbox_.ended(p); }

    prefix_set prefixes_;  // guarded by the mutex
    const bool encoded_;   // messages arrive as encoded batches (the xsubscriber's)
};

class raw_subscriber final : public raw_subscribing<subscriber_impl> {
  public:
    raw_subscriber(const std::vector<endpoint>& endpoints, const options& opts)
        : raw_subscribing(endpoints, opts, inbox::taking::batches) {
        start_pipes();
    }
    ~raw_subscriber() override { close_pipes(); }
    raw_subscriber(const raw_subscriber&) = delete;
    raw_subscriber& operator=(const raw_subscriber&) = delete;
    void subscribe(std::string_view prefix) override { add_prefix(prefix); }
    void unsubscribe(std::string_view prefix) override { drop_prefix(prefix); }
};

class raw_xsubscriber final : public raw_subscribing<xsubscriber_impl>, public encoded_source {
  public:
    raw_xsubscriber(const std::vector<endpoint>& endpoints, const options& opts)
        : raw_subscribing(endpoints, opts, inbox::taking::encoded_batches) {
        start_pipes();
    }
    ~raw_xsubscriber() override { close_pipes(); }
    raw_xsubscriber(const raw_xsubscriber&) = delete;
    raw_xsubscriber& operator=(const raw_xsubscriber&) = delete;

    std::string_view next_encoded() override { return inbox_.next_encoded(); }
    void took_encoded(std::size_t bytes) override { inbox_.took_encoded(bytes); }

    // A subscription message: one frame, \x01 (subscribe) or \x00 (unsubscribe), a prefix.
    bool send(const message& msg) override {
        const bool subscription =
            msg.size() == 1 && !msg[0].empty() && (msg[0][0] == '\x01' || msg[0][0] == '\0');
        if (!subscription) {
            throw unsupported_error(
                "a raw xsubscriber sends only subscription messages (one frame: \\x01 or \\x00, "
                "then the prefix): raw publishers take nothing else from subscribers; use ZeroMQ "
                "endpoints to send other messages upstream");
        }
        const std::string_view prefix = std::string_view(msg[0]).substr(1);
        if (msg[0][0] == '\x01') {
            add_prefix(prefix);
        } else {
            drop_prefix(prefix);
        }
        return true;
    }
};

}  // namespace

std::unique_ptr<subscriber_impl> make_raw_subscriber(const std::vector<endpoint>& endpoints,
                                                     const options& opts) {
    return std::make_unique<raw_subscriber>(endpoints, opts);
}

std::unique_ptr<xsubscriber_impl> make_raw_xsubscriber(const std::vector<endpoint>& endpoints,
                                                       const options& opts) {
    return std::make_unique<raw_xsubscriber>(endpoints, opts);
}

}  // namespace zpat::detail
