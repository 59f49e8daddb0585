#include "pipe_set.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <asio.hpp>
#include <cstdio>
#include <future>
#include <iterator>
#include <span>

#include "io_thread.hpp"

namespace zpat::detail {

using asio::ip::tcp;

namespace {

constexpr std::size_t read_chunk = std::size_t{256} * 1024;

std::size_t high_water(int mark) {
    return mark <= 0 ? SIZE_MAX : static_cast<std::size_t>(mark);
}

// One read buffer per I/O thread, not one per pipe: a pipe waits until it is readable and then
// reads into this, and keeps only the bytes of an unfinished message.
std::span<char> read_buffer() {
    thread_local std::vector<char> buffer(read_chunk);
    return buffer;
}

}  // namespace

std::shared_ptr<pipe_set> pipe_set::open(wire::role self, std::vector<endpoint> endpoints,
                                         const options& opts, bool direct) {
    return std::make_shared<pipe_set>(self, std::move(endpoints), opts, direct);
}

pipe_set::pipe_set(wire::role self, std::vector<endpoint> endpoints, const options& opts,
                   bool direct)
    : io_(raw_io()),
      self_(self),
      direct_(direct),
      endpoints_(std::move(endpoints)),
      opts_(opts),
      send_mark_(high_water(opts.send_high_water_mark)),
      byte_mark_(opts.send_high_water_bytes),
      decoder_(opts.max_message_size),
      limits_timer_(io_),
      limits_(opts) {
    backoff_.resize(endpoints_.size());
    for (std::size_t i = 0; i < endpoints_.size(); ++i) {
        const endpoint& ep = endpoints_[i];
        redial_timers_.push_back(std::make_unique<asio::steady_timer>(io_));
        slots_.push_back(nullptr);
        if (ep.side == link::connect) {
            resolved_.push_back(ep.url());
            slots_.back() = make_pipe(static_cast<int>(i));
            peers_.push_back(slots_.back());
            continue;
        }
        auto [acceptor, url] = listen_on(io_, ep);
        resolved_.push_back(std::move(url));
        acceptors_.push_back(std::move(acceptor));
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
    return {c.opened.load(),           c.refused.load(),
            c.malformed.load(),        c.handshake_timeouts.load(),
            c.partial_timeouts.load(), c.idle_timeouts.load()};
}

void pipe_set::log(const std::string& what) const {
    std::fprintf(stderr, "zpat %s: %s\n", wire::role_name(self_), what.c_str());
}

// ---- sending, with the mutex held --------------------------------------------------------

void pipe_set::enqueue(pipe& p, const message& msg) {
    if (direct_ && p.idle && !p.stale) {
        direct_bytes_.clear();
        wire::encode(msg, direct_bytes_);
        const auto sent = ::send(p.socket.native_handle(), direct_bytes_.data(),
                                 direct_bytes_.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
        if (sent == static_cast<ssize_t>(direct_bytes_.size())) {
            return;
        }
        // A partial write, a full socket buffer or an error: the I/O thread writes the rest
        // (and meets the error itself, dropping the connection as it always does).
        p.pending.append(direct_bytes_, sent > 0 ? static_cast<std::size_t>(sent) : 0);
        ++p.pending_count;
        ++unsent_;
        p.idle = false;
        asio::post(
            io_, [self = shared_from_this(), p = p.shared_from_this()] { self->write_queued(p); });
        return;
    }
    ++unsent_;
    if (p.queue(msg)) {
        asio::post(
            io_, [self = shared_from_this(), p = p.shared_from_this()] { self->write_queued(p); });
    }
}

std::size_t pipe_set::discard_queued(pipe& p) {
    const std::size_t count = p.discard_queued();
    unsent_ -= count;
    return count;
}

bool pipe_set::wait_for_room(std::unique_lock<std::mutex>& lock,
                             std::optional<clock_type::time_point>& deadline) {
    // The clock is read only when a send has to wait: most find room at once.
    if (!deadline) {
        deadline = clock_type::now() + opts_.send_timeout;
    }
    if (opts_.send_timeout == forever) {
        room_cv_.wait(lock);
        return true;
    }
    if (opts_.send_timeout.count() == 0) {
        return false;
    }
    return room_cv_.wait_until(lock, *deadline) == std::cv_status::no_timeout ||
           clock_type::now() < *deadline;
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
    return std::make_shared<pipe>(io_, next_id_++, dial_index);
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
                              begin(p);
                              accept_next(acceptor);
                          });
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
        p->clock.partial_bytes = p->in.size();
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

// ---- the I/O thread: one connection --------------------------------------------------------

void pipe_set::begin(const pipe_ptr& p) {
    ++p->epoch;
    p->closed = false;
    p->read_stopped = false;
    p->in.clear();
    p->clock.opened = p->clock.last_heard = clock_type::now();
    ++counted_.opened;
    std::error_code ignored;
    p->socket.set_option(tcp::no_delay(true), ignored);
    p->socket.non_blocking(true, ignored);  // read_more() reads once the socket is readable
    const auto remote = p->socket.remote_endpoint(ignored);
    p->remote = remote.address().to_string() + ":" + std::to_string(remote.port());
    p->out_bytes = wire::greeting(self_);
    p->writing = true;
    p->writing_count = 0;
    write_bytes(p);
    read_more(p);
}

void pipe_set::write_bytes(const pipe_ptr& p) {
    const unsigned epoch = p->epoch;
    asio::async_write(p->socket, asio::buffer(p->out_bytes),
                      [this, self = shared_from_this(), p, epoch](std::error_code ec, std::size_t) {
                          if (epoch != p->epoch || p->closed) {
                              return;  // that connection was dropped already
                          }
                          if (ec) {
                              drop(p, "");
                              return;
                          }
                          p->writing = false;
                          write_queued(p);
                      });
}

// Counts what was just written as sent, then writes everything queued for `p` in one buffer:
// small messages share a syscall, and a batch costs one lock.
void pipe_set::write_queued(const pipe_ptr& p) {
    if (p->writing || p->closed) {
        return;
    }
    bool more = false;
    {
        std::lock_guard lock(mutex_);
        unsent_ -= std::exchange(p->writing_count, 0);
        if (p->ready) {
            more = p->take_queued();
            p->idle = !more;
        }
    }
    room_cv_.notify_all();
    if (more) {
        p->writing = true;
        write_bytes(p);
    }
}

void pipe_set::read_more(const pipe_ptr& p) {
    const unsigned epoch = p->epoch;
    p->socket.async_wait(
        tcp::socket::wait_read, [this, self = shared_from_this(), p, epoch](std::error_code ec) {
            if (epoch != p->epoch || p->closed) {
                return;
            }
            const std::span<char> buffer = read_buffer();
            std::size_t n = 0;
            if (!ec) {
                n = p->socket.read_some(asio::buffer(buffer.data(), buffer.size()), ec);
            }
            if (ec == asio::error::would_block || ec == asio::error::try_again) {
                read_more(p);
                return;
            }
            if (ec) {
                drop(p, "");
                return;
            }
            if (limits_.idle_limited()) {
                p->clock.last_heard = clock_type::now();
            }
            if (!take_input(p, {buffer.data(), n})) {
                return;
            }
            if (is_full(*p)) {
                p->read_stopped = true;  // resume_reading() restarts it
            } else {
                read_more(p);
            }
        });
}

// Decodes `data`, just read from `p`. Returns false when `p` was dropped for it.
bool pipe_set::take_input(const pipe_ptr& p, std::string_view data) {
    // The bytes of an unfinished message come first; otherwise decode from the read buffer.
    const bool buffered = !p->in.empty();
    if (buffered) {
        p->in.append(data);
        data = p->in;
    }
    std::size_t at = 0;
    if (!p->ready) {
        if (!take_greeting(p, data, buffered)) {
            return false;
        }
        if (!p->ready) {
            return true;  // not all of it yet
        }
        at = wire::greeting_size;
    }
    // Decode everything that has arrived, then hand it over under one lock: a read of many
    // small messages costs one lock and one wake-up, not one per message. Each message is
    // decoded in place, into the storage of one the user received earlier.
    bool ok = true;
    std::size_t decoded = 0;
    for (;; ++decoded) {
        if (decoded == p->stock.size()) {
            p->stock.emplace_back();
        }
        std::size_t consumed = 0;
        const auto status = decoder_.next(data.substr(at), p->stock[decoded], consumed);
        if (status != wire::decoder::status::message_ready) {
            ok = status == wire::decoder::status::need_more;
            break;
        }
        at += consumed;
    }
    if (!deliver(p, decoded)) {
        return false;
    }
    if (!ok) {
        ++counted_.malformed;
        drop(p, "dropped " + p->remote + ": " + decoder_.reason());
        return false;
    }
    if (buffered) {
        p->in.erase(0, at);
    } else {
        p->in.assign(data.substr(at));
    }
    if (!p->in.empty() && (!buffered || at > 0)) {
        p->clock.partial_since = clock_type::now();  // a new message began in this read
    }
    return true;
}

// Checks the peer's greeting once all of it is in `data`. Returns false when `p` was refused.
bool pipe_set::take_greeting(const pipe_ptr& p, std::string_view data, bool buffered) {
    if (data.size() < wire::greeting_size) {
        if (!buffered) {
            p->in.assign(data);
        }
        return true;
    }
    const std::string refusal = wire::check_greeting(data, wire::peer_of(self_));
    if (!refusal.empty()) {
        ++counted_.refused;
        drop(p, "refused " + p->remote + ": " + refusal);
        return false;
    }
    p->ready = true;
    {
        std::lock_guard lock(mutex_);
        if (p->accepted()) {
            peers_.push_back(p);
        } else {
            backoff_[static_cast<std::size_t>(p->dial_index)].reset();
        }
        events_->greeted(*p);
    }
    room_cv_.notify_all();
    write_queued(p);  // what was queued while it was connecting
    return true;
}

// Hands the first `decoded` messages of p->stock to the role. Returns false when `p` was
// dropped for what it sent.
bool pipe_set::deliver(const pipe_ptr& p, std::size_t decoded) {
    const char* refusal = nullptr;
    {
        std::lock_guard lock(mutex_);
        refusal = events_->arrived(*p, decoded);
    }
    if (refusal != nullptr) {
        ++counted_.malformed;
        drop(p, "dropped " + p->remote + ": " + refusal);
        return false;
    }
    return true;
}

// Backpressure, per pipe: a pipe whose receiver is full stops being read, while the others go
// on. Only the I/O thread starts and stops read loops, so a pipe never has two reads
// outstanding; deciding to park and raising the flag that room_made() checks happen under one
// lock, so a park is never missed.
bool pipe_set::is_full(const pipe& p) {
    std::lock_guard lock(mutex_);
    if (!events_->full(p)) {
        return false;
    }
    reading_parked_ = true;
    return true;
}

// Restarts the parked read loops of pipes whose receiver has room again; one still full stays
// parked (is_full() raises the flag again, so a later room_made() retries).
void pipe_set::resume_reading() {
    if (stopping_) {
        return;
    }
    std::vector<pipe_ptr> all;
    {
        std::lock_guard lock(mutex_);
        all = peers_;
    }
    for (const pipe_ptr& p : all) {
        if (p->read_stopped && !p->closed && !is_full(*p)) {
            p->read_stopped = false;
            p->clock.partial_since = p->clock.last_heard = clock_type::now();  // our wait
            read_more(p);
        }
    }
}

// ---- the I/O thread: closing ---------------------------------------------------------------

// Ends `p`'s current connection. An accepted pipe leaves with its queue; a connect endpoint's
// slot keeps its queue (what was being written is lost) and redials.
void pipe_set::drop(const pipe_ptr& p, const std::string& reason, bool redial_now) {
    if (p->closed) {
        return;
    }
    p->closed = true;
    p->ready = false;
    if (!reason.empty()) {
        log(reason);
    }
    {
        std::lock_guard lock(mutex_);
        p->idle = false;  // no user thread may write to the descriptor being closed
    }
    std::error_code ignored;
    p->socket.close(ignored);
    {
        std::lock_guard lock(mutex_);
        unsent_ -= p->writing_count;
        events_->ended(*p);
        if (p->accepted()) {
            std::erase(accepted_, p);
            std::erase(peers_, p);
            discard_queued(*p);
        }
        p->stale = false;
    }
    p->writing = false;
    p->writing_count = 0;
    room_cv_.notify_all();
    if (!p->accepted()) {
        if (redial_now) {
            dial(p->dial_index);
        } else {
            redial_later(p->dial_index);
        }
    }
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
