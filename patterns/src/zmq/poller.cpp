// The poller waits with zmq_poll, which takes ZeroMQ sockets and plain descriptors alike, so a
// backend that hands out descriptors can be polled beside ZeroMQ roles; with poll(2) when there
// are only descriptors; and inside the role's own wait when one role does its I/O as it waits
// and the rest are descriptors (core/waits_itself.hpp).

#include "zpat/poller.hpp"

#include "core/waits_itself.hpp"
#include "zmq_socket.hpp"

#include <poll.h>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <optional>
#include <zmq.hpp>

namespace zpat {

using clock = std::chrono::steady_clock;

namespace {

// A number for each change of any poller's sources, so that a role waiting for them
// (waits_itself.hpp) can tell a changed set from the one it registered.
std::uint64_t next_generation() {
    static std::atomic<std::uint64_t> last{0};
    return ++last;
}

}  // namespace

void poller::add_handle(detail::poll_handle handle, callback on_readable) {
    sources_.push_back({handle, std::move(on_readable)});
    generation_ = next_generation();
}

void poller::remove_handle(detail::poll_handle handle) {
    std::erase_if(sources_, [&](const source& s) { return s.handle == handle; });
    generation_ = next_generation();
}

poller::timer_id poller::every(milliseconds interval, callback fn) {
    return add_timer(interval, interval, std::move(fn));
}

poller::timer_id poller::after(milliseconds delay, callback fn) {
    return add_timer(delay, milliseconds{0}, std::move(fn));
}

poller::timer_id poller::add_timer(milliseconds delay, milliseconds interval, callback fn) {
    const timer_id id = next_timer_id_++;
    timers_.push_back({id, clock::now() + delay, interval, std::move(fn)});
    return id;
}

void poller::cancel(timer_id id) {
    std::erase_if(timers_, [id](const timer& t) { return t.id == id; });
}

std::size_t poller::run_due_timers() {
    std::size_t ran = 0;
    const auto now = clock::now();
    // Collect first: a callback may add or cancel timers.
    std::vector<timer_id> due;
    for (const timer& t : timers_) {
        if (t.due <= now) {
            due.push_back(t.id);
        }
    }
    for (timer_id id : due) {
        auto it = std::find_if(timers_.begin(), timers_.end(),
                               [id](const timer& t) { return t.id == id; });
        if (it == timers_.end()) {
            continue;
        }
        callback fn = it->fn;
        if (it->interval.count() > 0) {
            it->due += it->interval;
            if (it->due <= now) {
                it->due = now + it->interval;  // fell behind: skip, do not burst
            }
        } else {
            timers_.erase(it);
        }
        fn();
        ++ran;
    }
    return ran;
}

namespace {

// The back-offs of the CURVE clients among `sources` (detail/zmq_reconnect.hpp), seen to here
// since their roles' own threads wait in this poller.
template <class Sources>
std::vector<detail::reconnect_backoff*> backoffs_of(const Sources& sources) {
    std::vector<detail::reconnect_backoff*> found;
    if (detail::reconnect_backoff::any()) {
        for (const auto& s : sources) {
            if (auto* b = detail::reconnect_backoff::of(s.handle.socket()); b != nullptr) {
                found.push_back(b);
            }
        }
    }
    return found;
}

// As zmq_poll reports a descriptor: anything but POLLIN and POLLOUT (a hang-up, an error, a
// descriptor closed under it) is ZMQ_POLLERR.
short as_zmq_events(short got) {
    return static_cast<short>(((got & POLLIN) != 0 ? ZMQ_POLLIN : 0) |
                              ((got & ~(POLLIN | POLLOUT)) != 0 ? ZMQ_POLLERR : 0));
}

// Waits on `items`: with zmq_poll when a ZeroMQ socket is among them; else with poll(2) itself,
// which saves zmq_poll's first pass (a poll with no wait, before the one that waits) on every
// call: a wakeup's worth of system calls for a loop that waits on descriptors only (raw roles,
// a router with io_model::caller).
void wait_on(std::vector<zmq::pollitem_t>& items, milliseconds wait) {
    if (std::ranges::any_of(items, [](const zmq::pollitem_t& i) { return i.socket != nullptr; })) {
        try {
            zmq::poll(items, wait);
        } catch (const zmq::error_t& e) {
            if (e.num() != EINTR) {
                detail::throw_zmq_failure("poll", e.num());
            }
        }
        return;
    }
    std::vector<pollfd> fds;
    fds.reserve(items.size());
    for (const zmq::pollitem_t& i : items) {
        fds.push_back({i.fd, POLLIN, 0});
    }
    const int timeout = wait == forever ? -1 : static_cast<int>(wait.count());
    if (::poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR) {
        detail::throw_zmq_failure("poll", errno);
    }
    for (std::size_t i = 0; i < items.size(); ++i) {
        items[i].revents = as_zmq_events(fds[i].revents);
    }
}

// The index among `sources` of the one role that waits itself, when all the others are plain
// descriptors: it can wait for them too. nullopt otherwise.
template <class Sources>
std::optional<std::size_t> sole_waiter(const Sources& sources) {
    std::optional<std::size_t> found;
    for (std::size_t i = 0; i < sources.size(); ++i) {
        const detail::poll_handle& h = sources[i].handle;
        if (h.socket() != nullptr || (h.waiter() != nullptr && found)) {
            return std::nullopt;
        }
        if (h.waiter() != nullptr) {
            found = i;
        }
    }
    return found;
}

// Waits on `items` inside the wait of the role at `at`, which watches the others itself.
void wait_beside(detail::waits_itself& role, std::size_t at, std::vector<zmq::pollitem_t>& items,
                 std::uint64_t generation, milliseconds wait) {
    std::vector<pollfd> others;
    others.reserve(items.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i != at) {
            others.push_back({items[i].fd, POLLIN, 0});
        }
    }
    const bool ready = role.wait_beside(others, generation, wait);
    for (std::size_t i = 0, o = 0; i < items.size(); ++i) {
        const short own = ready ? short{ZMQ_POLLIN} : short{0};
        items[i].revents = i == at ? own : as_zmq_events(others[o++].revents);
    }
}

}  // namespace

std::size_t poller::run_once(milliseconds timeout) {
    const auto deadline = clock::now() + timeout;
    std::vector<zmq::pollitem_t> items;
    for (;;) {
        const auto backoffs = backoffs_of(sources_);
        for (auto* b : backoffs) {
            b->upkeep();
        }
        auto wait = timeout;
        const auto now = clock::now();
        if (timeout != forever) {
            wait = std::max(milliseconds{0}, std::chrono::ceil<milliseconds>(deadline - now));
        }
        for (const timer& t : timers_) {
            const auto until =
                std::max(milliseconds{0}, std::chrono::ceil<milliseconds>(t.due - now));
            wait = wait == forever ? until : std::min(wait, until);
        }
        items.clear();
        for (const source& s : sources_) {
            items.push_back({s.handle.socket(), s.handle.fd(), ZMQ_POLLIN, 0});
        }
        for (auto* b : backoffs) {
            wait = b->wait(wait);
            items.push_back({nullptr, b->fd(), ZMQ_POLLIN, 0});
        }
        if (const auto at = backoffs.empty() ? sole_waiter(sources_) : std::nullopt) {
            wait_beside(*sources_[*at].handle.waiter(), *at, items, generation_, wait);
        } else {
            wait_on(items, wait);
        }
        // Copy the ready callbacks first: a callback may add or remove sources.
        std::vector<callback> ready;
        for (std::size_t i = 0; i < sources_.size(); ++i) {
            // A descriptor that hung up or failed (a pipe whose writer closed) reports POLLERR
            // without POLLIN; its owner learns which by reading, as select() users do.
            if ((items[i].revents & (ZMQ_POLLIN | ZMQ_POLLERR)) != 0) {
                ready.push_back(sources_[i].on_readable);
            }
        }
        for (auto& fn : ready) {
            fn();
        }
        const std::size_t ran = ready.size() + run_due_timers();
        if (ran > 0 || (timeout != forever && clock::now() >= deadline)) {
            return ran;
        }
    }
}

}  // namespace zpat
