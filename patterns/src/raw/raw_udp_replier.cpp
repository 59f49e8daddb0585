// Replier over raw UDP: replies go to the sender's address with the request's id. Replies are
// kept for a while by (address, id), so a retried request is answered again from the cache
// instead of running the handler twice; a request still being handled is not started again.
// A reply larger than its request goes only to an address that has proven it receives there by
// echoing a cookie (udp_cookie.hpp); an unproven one gets the cookie instead, retries with it at
// once, and is answered from the cache. So a forged source address gets at most what it sent.
// Retries are answered on the I/O thread, whether or not the owner is in receive(), and a
// replier destroyed with replies still waiting for a cookie waits up to options::linger.

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "core/log_line.hpp"
#include "raw_cells.hpp"
#include "udp.hpp"
#include "udp_cookie.hpp"
#include "zpat/core/error.hpp"

namespace zpat::detail {
namespace {

constexpr std::size_t cache_limit = 4096;  // replies remembered for retries

class raw_udp_replier final : public replier_impl {
  public:
    raw_udp_replier(const std::vector<endpoint>& endpoints, const options& opts)
        : opts_(opts), channel_(endpoints, opts) {
        endpoints_.push_back(channel_.resolved());
        channel_.set_filter([this](std::string_view bytes, const udp::channel::address& from) {
            const auto request = udp::decode_header(bytes, wire::role::requester);
            return request && request->what == udp::kind::request &&
                   known_request(*request, from, bytes.size());
        });
    }
    ~raw_udp_replier() override {
        {
            std::unique_lock lock(mutex_);
            const auto sent = [&] { return withheld_ == 0; };
            if (opts_.linger == forever) {
                all_sent_.wait(lock, sent);
            } else {
                all_sent_.wait_for(lock, opts_.linger, sent);
            }
        }
        channel_.set_filter({});
    }
    raw_udp_replier(const raw_udp_replier&) = delete;
    raw_udp_replier& operator=(const raw_udp_replier&) = delete;

    bool receive(message& into, milliseconds timeout) override {
        if (pending_) {
            throw state_error("replier::receive called while a request awaits its reply");
        }
        pending_ = take_request(into, pending_key_, timeout);
        return pending_;
    }

    void reply(const message& reply) override {
        if (!pending_) {
            throw state_error("replier::reply called with no request pending");
        }
        pending_ = false;
        answer(pending_key_, reply);
    }

    void serve(const request_handler& handler, unsigned threads) override {
        auto serve_one = [&] {
            message request;
            key from;
            while (take_request(request, from, forever)) {
                try {
                    answer(from, handler(std::move(request)));
                } catch (const std::exception&) {
                    failures_.fetch_add(1);
                    forget(from);  // let the client's retry run the handler again
                }
                request = message{};
            }
        };
        run_on_threads(threads, serve_one);
        channel_.clear_interrupt();
    }

    void stop() override { channel_.interrupt(); }

    std::uint64_t handler_failures() const noexcept override { return failures_.load(); }
    std::uint64_t malformed_requests() const noexcept override { return malformed_.load(); }
    std::uint64_t oversized_dropped() const noexcept override { return 0; }
    poll_handle handle() const override { return poll_handle::descriptor(channel_.fd()); }
    const std::vector<std::string>& endpoints() const override { return endpoints_; }

  private:
    using key = std::pair<udp::channel::address, std::uint64_t>;
    struct cached {
        bool answered = false;
        std::string datagram;
        std::size_t request_size = 0;  // the bytes that came: what an unproven sender may get
        bool proven = false;           // a datagram from this sender echoed our cookie
        bool withheld = false;         // answered with a cookie; the reply waits for its echo
    };

    // I/O thread (and take_request). A request seen before, from the same address: answered
    // from the cache once its reply is ready, and ignored while it is being handled. Returns
    // false for one not seen before.
    bool known_request(const udp::datagram& request, const udp::channel::address& sender,
                       std::size_t size) {
        const auto verdict = request.cookie ? check_.check(sender, *request.cookie)
                                            : udp::address_check::verdict::bad;
        std::lock_guard lock(mutex_);
        const auto entry = cache_.find(key{sender, request.id});
        if (entry == cache_.end()) {
            return false;
        }
        cached& known = entry->second;
        known.proven = known.proven || verdict != udp::address_check::verdict::bad;
        if (known.answered) {
            send_answer(known, sender, size);
        }
        if (verdict == udp::address_check::verdict::renew) {
            send_cookie(sender);  // good for now; this one is for the requests to come
        }
        return true;
    }

    // Waits for a request not seen before; answers retries of answered ones from the cache.
    bool take_request(message& into, key& from, milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        std::string bytes;
        udp::channel::address sender;
        for (;;) {
            milliseconds left = forever;
            if (timeout != forever) {
                left = std::chrono::duration_cast<milliseconds>(deadline -
                                                                std::chrono::steady_clock::now());
                if (left.count() < 0) {
                    return false;
                }
            }
            if (!channel_.receive(bytes, sender, left)) {
                return false;
            }
            auto request = udp::decode(bytes, wire::role::requester, opts_.max_message_size,
                                       opts_.max_message_frames);
            if (!request || request->what != udp::kind::request) {
                malformed_.fetch_add(1);
                std::lock_guard lock(mutex_);  // a pool's threads may take requests side by side
                malformed_log_.say("replier", "dropped a datagram from " +
                                                  udp::channel::text(sender) +
                                                  ": not a zpat request (docs/wire-format.md, 5)");
                continue;
            }
            if (known_request(*request, sender, bytes.size())) {
                continue;  // a retry (one that came before the first was read)
            }
            const auto verdict = request->cookie ? check_.check(sender, *request->cookie)
                                                 : udp::address_check::verdict::bad;
            if (verdict == udp::address_check::verdict::renew) {
                send_cookie(sender);
            }
            key id{sender, request->id};
            std::lock_guard lock(mutex_);
            auto [entry, inserted] = cache_.try_emplace(id);
            if (!inserted) {
                continue;  // the I/O thread has just taken a retry of it
            }
            entry->second.request_size = bytes.size();
            entry->second.proven = verdict != udp::address_check::verdict::bad;
            order_.push_back(id);
            into = std::move(request->body);
            from = std::move(id);
            return true;
        }
    }

    void answer(const key& to, const message& reply) {
        check_sendable(reply, opts_);
        std::string bytes;
        udp::encode({wire::role::replier, udp::kind::reply, to.second, reply, {}}, bytes);
        std::lock_guard lock(mutex_);
        auto [found, made] = cache_.try_emplace(to);  // made: pushed out by newer requests
        if (made) {
            order_.push_back(to);  // so that it is bounded as every other entry is
        }
        cached& entry = found->second;
        entry.answered = true;
        entry.datagram = std::move(bytes);
        send_answer(entry, to.first, entry.request_size);
        while (order_.size() > cache_limit) {
            forget_locked(order_.front());
            order_.pop_front();
        }
    }

    // Sends `entry`'s reply to `to`, or only a cookie when the reply is larger than the
    // `received` bytes and `to` has not proven its address. With the mutex held.
    void send_answer(cached& entry, const udp::channel::address& to, std::size_t received) {
        const bool may_send = entry.proven || entry.datagram.size() <= received;
        if (may_send) {
            channel_.send(entry.datagram, &to);
        } else {
            send_cookie(to);
        }
        if (entry.withheld == may_send) {  // the reply went at last, or now waits
            entry.withheld = !may_send;
            withheld_ += may_send ? -1 : 1;
            all_sent_.notify_all();
        }
    }

    void send_cookie(const udp::channel::address& to) {
        std::string bytes;
        udp::encode_cookie(wire::role::replier, check_.cookie_for(to), bytes);
        channel_.send(bytes, &to);
    }

    void forget(const key& id) {
        std::lock_guard lock(mutex_);
        forget_locked(id);
    }
    void forget_locked(const key& id) {
        const auto entry = cache_.find(id);
        if (entry != cache_.end()) {
            withheld_ -= entry->second.withheld ? 1 : 0;
            cache_.erase(entry);
            all_sent_.notify_all();
        }
    }

    options opts_;
    udp::channel channel_;
    std::vector<std::string> endpoints_;
    udp::address_check check_;
    std::mutex mutex_;
    std::condition_variable all_sent_;  // withheld_ went down
    std::map<key, cached> cache_;
    std::ptrdiff_t withheld_ = 0;  // replies in the cache waiting for a cookie's echo
    std::deque<key> order_;        // oldest first, to bound the cache
    bool pending_ = false;
    key pending_key_;
    std::atomic<std::uint64_t> failures_{0};
    std::atomic<std::uint64_t> malformed_{0};  // datagrams that were not requests
    throttled_log malformed_log_;              // guarded by mutex_
};

}  // namespace

std::unique_ptr<replier_impl> make_raw_udp_replier(const std::vector<endpoint>& endpoints,
                                                   const options& opts) {
    return std::make_unique<raw_udp_replier>(endpoints, opts);
}

}  // namespace zpat::detail
