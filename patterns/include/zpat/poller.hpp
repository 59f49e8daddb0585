#pragma once
// zpat::poller waits on several roles and timers at once, with one deadline, and runs the
// callback of each one that is ready. Single-threaded: use it on the thread that owns the roles.
//
//   zpat::poller poller;
//   poller.add(updates, [&] { auto m = updates.receive(0ms); ... });
//   poller.every(1s, [&] { print_stats(); });
//   while (running) poller.run_once(100ms);

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "zpat/core/options.hpp"
#include "zpat/core/poll_handle.hpp"

namespace zpat {

class poller {
  public:
    using callback = std::function<void()>;
    using timer_id = std::uint64_t;

    // Runs `on_readable` whenever `role` (a puller, subscriber, replier, router, dealer,
    // xsubscriber, stream or datagram) has a message waiting, or an xpublisher a subscription. The
    // role must outlive the poller or be removed first.
    template <class Role>
    // NOLINTNEXTLINE(performance-unnecessary-value-param): it is moved; tidy 14 misreads this
    void add(const Role& role, callback on_readable) {
        add_handle(role.poll_handle(), std::move(on_readable));
    }
    template <class Role>
    void remove(const Role& role) {
        remove_handle(role.poll_handle());
    }

    // Runs `on_readable` whenever descriptor `fd` (a pipe, an eventfd, a socket of the user's
    // own) is readable. The descriptor must stay open until removed.
    void add_descriptor(int fd, callback on_readable) {
        add_handle(detail::poll_handle::descriptor(fd), std::move(on_readable));
    }
    void remove_descriptor(int fd) { remove_handle(detail::poll_handle::descriptor(fd)); }

    // Runs `fn` every `interval`, first after one interval. Returns an id for cancel().
    timer_id every(milliseconds interval, callback fn);
    // Runs `fn` once, after `delay`.
    timer_id after(milliseconds delay, callback fn);
    void cancel(timer_id id);

    // Waits until something is ready or `timeout` has passed (forever: no limit), then runs the
    // callbacks of all ready roles and all due timers. Returns: how many callbacks ran (0 on
    // timeout). Throws: what a callback throws.
    std::size_t run_once(milliseconds timeout);

  private:
    struct source {
        detail::poll_handle handle;
        callback on_readable;
    };
    struct timer {
        timer_id id;
        std::chrono::steady_clock::time_point due;
        milliseconds interval;  // zero for a one-shot timer
        callback fn;
    };

    void add_handle(detail::poll_handle handle, callback on_readable);
    void remove_handle(detail::poll_handle handle);
    timer_id add_timer(milliseconds delay, milliseconds interval, callback fn);
    std::size_t run_due_timers();

    std::vector<source> sources_;
    std::uint64_t generation_ = 0;  // changes with sources_: unique among all pollers
    std::vector<timer> timers_;
    timer_id next_timer_id_ = 1;
};

}  // namespace zpat
