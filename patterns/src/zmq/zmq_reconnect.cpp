#include "zmq_reconnect.hpp"

#include <zmq.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <mutex>
#include <random>
#include <unordered_map>

#include "zpat/core/error.hpp"

namespace zpat::detail {
namespace {

// libzmq 4.3.3's ZMQ_RECONNECT_STOP, from its draft API (zmq.h declares it only to programs
// built with ZMQ_BUILD_DRAFT_API; Debian's libzmq takes it).
#ifdef ZMQ_RECONNECT_STOP
constexpr int reconnect_stop = ZMQ_RECONNECT_STOP;
constexpr int stop_after_handshake_failed = ZMQ_RECONNECT_STOP_HANDSHAKE_FAILED;
#else
constexpr int reconnect_stop = 109;
constexpr int stop_after_handshake_failed = 0x2;
#endif

// Which socket has which back-off, for zpat::poller, which sees sockets only.
struct registry {
    std::mutex mutex;
    std::unordered_map<const void*, reconnect_backoff*> by_socket;  // under mutex
    std::atomic<std::size_t> size{0};
};

registry& sockets() {
    static registry one;
    return one;
}

milliseconds jitter(milliseconds most) {
    thread_local std::minstd_rand random{std::random_device{}()};
    std::uniform_int_distribution<std::int64_t> pick(0, std::max<std::int64_t>(0, most.count()));
    return milliseconds{pick(random)};
}

}  // namespace

reconnect_backoff::reconnect_backoff(std::shared_ptr<watched_counts> counts)
    : counts_(std::move(counts)) {
    counts_->stopped = std::make_unique<wake_signal>();
}

reconnect_backoff::~reconnect_backoff() {
    detach();
}

bool reconnect_backoff::attach(void* handle, std::vector<std::string> connects) {
    const int value = stop_after_handshake_failed;
    if (zmq_setsockopt(handle, reconnect_stop, &value, sizeof value) != 0) {
        return false;
    }
    detach();
    handle_ = handle;
    connects_ = std::move(connects);
    registry& r = sockets();
    const std::lock_guard lock(r.mutex);
    r.by_socket[handle_] = this;
    r.size = r.by_socket.size();
    return true;
}

bool reconnect_backoff::defer_connects(bool allowed) {
    note_failures();
    const bool armed = allowed && delay_.count() > 0 && clock::now() < due_;
    pending_ = armed ? connects_ : std::vector<std::string>{};
    return armed;
}

void reconnect_backoff::detach() {
    if (handle_ == nullptr) {
        return;
    }
    registry& r = sockets();
    const std::lock_guard lock(r.mutex);
    r.by_socket.erase(handle_);
    r.size = r.by_socket.size();
    handle_ = nullptr;
    pending_.clear();  // the next socket connects to them all
}

void reconnect_backoff::note_failures() {
    if (counts_->stopped->raised()) {
        counts_->stopped->clear();  // before taking: a failure after it raises it again
        schedule(counts_->take_stopped());
    }
}

void reconnect_backoff::upkeep() {
    note_failures();
    if (!pending_.empty() && clock::now() >= due_) {
        connect_again();
    }
}

void reconnect_backoff::schedule(const std::vector<std::string>& failed) {
    if (failed.empty() || handle_ == nullptr) {
        return;
    }
    const std::uint64_t successes = counts_->handshakes_ok.load();
    if (successes != successes_seen_) {  // a handshake went through since the last failure
        successes_seen_ = successes;
        delay_ = milliseconds{0};
    }
    const bool waiting = !pending_.empty();
    for (const std::string& endpoint : failed) {
        // A failure names the endpoint as libzmq resolved it; one that is not spelled as the
        // socket connected (a host name) is retried as all of them.
        const bool known = std::ranges::find(connects_, endpoint) != connects_.end();
        for (const std::string& again : known ? std::vector<std::string>{endpoint} : connects_) {
            if (std::ranges::find(pending_, again) == pending_.end()) {
                pending_.push_back(again);
            }
        }
    }
    if (!waiting) {
        delay_ = delay_.count() == 0 ? first_wait : std::min(delay_ * 2, longest_wait);
        due_ = clock::now() + delay_ + jitter(delay_ / 2);
    }
}

void reconnect_backoff::connect_again() {
    // A fresh attempt is not refused until it is. Cleared before connecting: the watcher thread
    // can see the new connection refused before zmq_connect returns here, and a clear after it
    // would lose that refusal, leaving a request to wait out its whole timeout.
    if (counts_->refusal) {
        counts_->refusal->clear();
    }
    for (const std::string& endpoint : pending_) {
        (void)zmq_disconnect(handle_, endpoint.c_str());  // what libzmq gave up on, if anything
        if (zmq_connect(handle_, endpoint.c_str()) != 0) {
            throw connection_error("cannot connect to '" + endpoint +
                                   "' again: " + zmq_strerror(errno));
        }
    }
    pending_.clear();
}

milliseconds reconnect_backoff::left() const {
    if (pending_.empty()) {
        return milliseconds{0};
    }
    return std::max(milliseconds{0}, std::chrono::ceil<milliseconds>(due_ - clock::now()));
}

milliseconds reconnect_backoff::wait(milliseconds wanted) const {
    if (pending_.empty()) {
        return wanted;
    }
    const milliseconds until = left();
    return wanted == forever ? until : std::min(wanted, until);
}

reconnect_backoff* reconnect_backoff::of(const void* handle) {
    registry& r = sockets();
    const std::lock_guard lock(r.mutex);
    const auto found = r.by_socket.find(handle);
    return found == r.by_socket.end() ? nullptr : found->second;
}

bool reconnect_backoff::any() noexcept {
    return sockets().size.load() > 0;
}

}  // namespace zpat::detail
