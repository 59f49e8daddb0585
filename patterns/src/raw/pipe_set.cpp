// pipe_set: building the set, accepting and dialling, the connection limits and closing. One
// pipe's reading is in pipe_io.cpp, sending and writing in pipe_write.cpp.

#include "pipe_set.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <asio.hpp>
#include <future>
#include <iterator>

#include "core/log_line.hpp"
#include "io_thread.hpp"

namespace zpat::detail {

using asio::ip::tcp;

namespace {

std::size_t high_water(int mark) {
    return mark <= 0 ? SIZE_MAX : static_cast<std::size_t>(mark);
}

}  // namespace

std::shared_ptr<pipe_set> pipe_set::open(wire::role self, std::vector<endpoint> endpoints,
                                         const options& opts, bool direct) {
    return std::make_shared<pipe_set>(self, std::move(endpoints), opts, direct, true,
                                      wire::role_name(self));
}

std::shared_ptr<pipe_set> pipe_set::open_unframed(const char* name, std::vector<endpoint> endpoints,
                                                  const options& opts) {
    return std::make_shared<pipe_set>(wire::role::pusher, std::move(endpoints), opts, false, false,
                                      name);
}

pipe_set::pipe_set(wire::role self, std::vector<endpoint> endpoints, const options& opts,
                   bool direct, bool framed, const char* name)
    : io_(raw_io()),
      self_(self),
      direct_(direct),
      framed_(framed),
      name_(name),
      endpoints_(std::move(endpoints)),
      opts_(opts),
      send_mark_(high_water(opts.send_high_water_mark)),
      byte_mark_(opts.send_high_water_bytes),
      limits_timer_(io_),
      limits_(opts) {
    if (!endpoints_.empty() && endpoints_.front().scheme == "raw+tls") {
        const tls_options tls = opts_.tls.value_or(tls_options{});
        const auto sided = [&](link side) {
            return std::any_of(endpoints_.begin(), endpoints_.end(),
                               [&](const endpoint& ep) { return ep.side == side; });
        };
        if (sided(link::bind)) {
            tls_server_ = make_tls_context(tls, true);
        }
        if (sided(link::connect)) {
            tls_client_ = make_tls_context(tls, false);
        }
    }
    backoff_.resize(endpoints_.size());
    for (std::size_t i = 0; i < endpoints_.size(); ++i) {
        const endpoint& ep = endpoints_[i];
        redial_timers_.push_back(std::make_unique<asio::steady_timer>(io_));
        slots_.push_back(nullptr);
        if (ep.side == link::connect) {
            resolved_.push_back(ep.url());
            slots_.back() = make_pipe(static_cast<int>(i));
            slots_.back()->via = resolved_.back();
            peers_.push_back(slots_.back());
            continue;
        }
        auto [acceptor, url] = listen_on(io_, ep);
        resolved_.push_back(url);
        acceptors_.push_back(std::move(acceptor));
        acceptor_urls_.push_back(std::move(url));
    }
}

void pipe_set::start(pipe_events& events) {
    events_ = &events;
    // From here on the set is the I/O thread's to touch.
    asio::post(io_, [self = shared_from_this()] {
        self->limits_sweep();
        for (auto& acceptor : self->acceptors_) {
            self->accept_next(*acceptor);
        }
        for (std::size_t i = 0; i < self->endpoints_.size(); ++i) {
            if (self->endpoints_[i].side == link::connect) {
                self->dial(static_cast<int>(i));
            }
        }
    });
}

void pipe_set::close() {
    {
        std::unique_lock lock(mutex_);
        const auto flushed = [&] { return unsent_ == 0; };
        if (opts_.linger == forever) {
            room_cv_.wait(lock, flushed);
        } else {
            room_cv_.wait_for(lock, opts_.linger, flushed);
        }
    }
    if (io_.stopped()) {
        shut_down();  // the process is exiting, and the I/O thread with it
        return;
    }
    // Returns with every pipe and listener closed (a port can be bound again at once);
    // handlers still queued end the set when the last of them has run.
    std::promise<void> done;
    asio::post(io_, [this, &done] {
        shut_down();
        done.set_value();
    });
    done.get_future().wait();
}

connection_counts pipe_set::counts() const {
    const auto& c = counted_;
    return {.opened = c.opened.load(),
            .closed = c.closed.load(),
            .refused = c.refused.load(),
            .malformed = c.malformed.load(),
            .handshake_timeouts = c.handshake_timeouts.load(),
            .partial_timeouts = c.partial_timeouts.load(),
            .idle_timeouts = c.idle_timeouts.load(),
            .over_limits = c.over_limits.load()};
}

std::vector<connection_info> pipe_set::describe() const {
    const char* peer_role = framed_ ? wire::role_name(wire::peer_of(self_)) : "";
    std::vector<connection_info> open;
    std::lock_guard lock(mutex_);
    for (const pipe_ptr& p : peers_) {
        if (p->live) {
            open.push_back({.peer = p->peer_address,
                            .endpoint = p->via,
                            .peer_role = peer_role,
                            .since = p->since,
                            .traffic = connection_traffic{.messages_in = p->carried.messages_in,
                                                          .bytes_in = p->carried.bytes_in,
                                                          .messages_out = p->carried.messages_out,
                                                          .bytes_out = p->carried.bytes_out}});
        }
    }
    return open;
}

void pipe_set::log(const std::string& what) const {
    log_line(name_, what);
}

void pipe_set::room_made() {
    if (reading_parked_) {
        // A parked pipe may have room now; one still full is parked again.
        reading_parked_ = false;
        asio::post(io_, [self = shared_from_this()] { self->resume_reading(); });
    }
}

void pipe_set::reset() {
    std::vector<pipe_ptr> old = peers_;
    for (const pipe_ptr& p : old) {
        discard_queued(*p);
        p->stale = true;  // whatever it still delivers belongs to an abandoned request
    }
    asio::post(io_, [self = shared_from_this(), old] {
        for (const pipe_ptr& p : old) {
            if (p->closed) {
                std::lock_guard lock(self->mutex_);
                p->stale = false;  // not connected: nothing old can arrive on it
            } else {
                self->drop(p, "", true);
            }
        }
    });
}

// ---- the I/O thread: accepting and dialling ------------------------------------------------

pipe_ptr pipe_set::make_pipe(int dial_index) {
    std::lock_guard lock(mutex_);
    return std::make_shared<pipe>(io_, next_id_++, dial_index, opts_);
}

void pipe_set::accept_next(tcp::acceptor& acceptor) {
    auto p = make_pipe(-1);
    acceptor.async_accept(p->socket,
                          [this, self = shared_from_this(), &acceptor, p](std::error_code ec) {
                              if (ec == asio::error::operation_aborted || stopping_) {
                                  return;
                              }
                              if (ec) {
                                  accept_later(acceptor, ec);
                                  return;
                              }
                              accepted_.push_back(p);
                              p->via = bound_url(acceptor);
                              begin(p);
                              accept_next(acceptor);
                          });
}

const std::string& pipe_set::bound_url(const tcp::acceptor& acceptor) const {
    const auto at = std::find_if(acceptors_.begin(), acceptors_.end(),
                                 [&](const auto& a) { return a.get() == &acceptor; });
    return acceptor_urls_.at(static_cast<std::size_t>(at - acceptors_.begin()));
}

// An accept failed, at the descriptor limit for instance: try again in a while rather than at
// once, which would spin the I/O thread for as long as the condition lasts.
void pipe_set::accept_later(tcp::acceptor& acceptor, std::error_code failed) {
    std::error_code ignored;
    const tcp::endpoint local = acceptor.local_endpoint(ignored);
    log("accept on " + local.address().to_string() + ":" + std::to_string(local.port()) +
        " failed (" + failed.message() + "); trying again in 100 ms");
    auto timer = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(100));
    timer->async_wait([this, self = shared_from_this(), &acceptor, timer](std::error_code e) {
        if (!e && !stopping_) {
            accept_next(acceptor);
        }
    });
}

void pipe_set::dial(int index) {
    if (stopping_) {
        return;
    }
    auto [host, port] = host_and_port(endpoints_[static_cast<std::size_t>(index)]);
    auto resolver = std::make_shared<tcp::resolver>(io_);
    resolver->async_resolve(host, port,
                            [this, self = shared_from_this(), index, resolver](
                                std::error_code ec, const tcp::resolver::results_type& found) {
                                if (stopping_) {
                                    return;
                                }
                                if (ec) {
                                    redial_later(index);
                                    return;
                                }
                                pipe_ptr p = slots_[static_cast<std::size_t>(index)];
                                asio::async_connect(p->socket, found,
                                                    [this, self, p, index](std::error_code failed,
                                                                           const tcp::endpoint&) {
                                                        if (stopping_) {
                                                            return;
                                                        }
                                                        if (failed) {
                                                            std::error_code ignored;
                                                            p->socket.close(ignored);
                                                            redial_later(index);
                                                        } else {
                                                            begin(p);
                                                        }
                                                    });
                            });
}

void pipe_set::redial_later(int index) {
    if (stopping_) {
        return;
    }
    auto& timer = *redial_timers_[static_cast<std::size_t>(index)];
    timer.expires_after(backoff_[static_cast<std::size_t>(index)].next());
    timer.async_wait([this, self = shared_from_this(), index](std::error_code ec) {
        if (!ec && !stopping_) {
            dial(index);
        }
    });
}

// ---- the I/O thread: connection limits -----------------------------------------------------

void pipe_set::count_breach(connection_limits::limit broken) {
    switch (broken) {
        case connection_limits::limit::handshake:
            ++counted_.handshake_timeouts;
            break;
        case connection_limits::limit::partial_message:
            ++counted_.partial_timeouts;
            break;
        case connection_limits::limit::idle:
            ++counted_.idle_timeouts;
            break;
        case connection_limits::limit::none:
            break;
    }
}

// Closes every pipe that broke a limit, then looks again in a while.
void pipe_set::limits_sweep() {
    const auto now = clock_type::now();
    for (const pipe_ptr& p : every_pipe()) {
        if (p->closed) {
            continue;
        }
        p->clock.greeted = p->ready;
        p->clock.reading = !p->read_stopped;
        p->clock.partial_bytes = p->ready ? p->partial_bytes() : p->greeting_in.size();
        const auto verdict = limits_.breach(p->clock, now);
        if (verdict.broken != connection_limits::limit::none) {
            count_breach(verdict.broken);
            drop(p, "closed " + p->remote + ": " + verdict.reason);
        }
    }
    limits_timer_.expires_after(limits_.sweep_interval());
    limits_timer_.async_wait([this, self = shared_from_this()](std::error_code ec) {
        if (!ec && !stopping_) {
            limits_sweep();
        }
    });
}

std::vector<pipe_ptr> pipe_set::every_pipe() const {
    std::vector<pipe_ptr> all = accepted_;
    std::copy_if(slots_.begin(), slots_.end(), std::back_inserter(all),
                 [](const pipe_ptr& p) { return p != nullptr; });
    return all;
}

// Ends everything of this set's: its pipes, listeners and timers. Handlers still queued find
// their pipe closed or `stopping_` set.
void pipe_set::shut_down() {
    stopping_ = true;
    std::error_code ignored;
    for (auto& acceptor : acceptors_) {
        acceptor->close(ignored);
    }
    for (auto& timer : redial_timers_) {
        timer->cancel();
    }
    limits_timer_.cancel();
    // Accepted pipes still in their greeting are not peers yet: close them too.
    for (const pipe_ptr& p : every_pipe()) {
        drop(p, "");
        p->socket.close(ignored);  // a slot may be between connections, still dialling
    }
}

}  // namespace zpat::detail
