#include "raw_socket.hpp"

#include "connection_limits.hpp"
#include "fair_queue.hpp"
#include "io_thread.hpp"
#include "tcp_common.hpp"
#include "topic_trie.hpp"

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <asio.hpp>
#include <atomic>
#include <cstdio>
#include <future>
#include <iterator>
#include <optional>
#include <span>

#include "zpat/core/error.hpp"

namespace zpat::detail {

using asio::ip::tcp;

namespace {

using clock_type = std::chrono::steady_clock;

constexpr std::size_t read_chunk = std::size_t{256} * 1024;
constexpr std::size_t max_idle_buffers = std::size_t{1} << 20;  // a connection's, in bytes

// Storage the user gave back is kept for the decoders only if it is a small message's, where an
// allocation costs about what the copy does; a large one's is freed, so that what a connection
// keeps in stock (a read's worth of messages) stays small whatever passed through it. Returns
// the bytes kept.
std::size_t keep_small(message& storage) {
    constexpr std::size_t max_kept = 4096;
    const std::size_t bytes = storage.byte_size();
    if (bytes > max_kept) {
        storage = message{};
        return 0;
    }
    return bytes;
}

bool matches(const std::vector<std::string>& prefixes, std::string_view topic) {
    return std::any_of(prefixes.begin(), prefixes.end(),
                       [&](const std::string& p) { return topic.substr(0, p.size()) == p; });
}

}  // namespace

struct connection : std::enable_shared_from_this<connection> {
    connection(asio::io_context& io, raw_socket::peer_id peer, int index)
        : socket(io), id(peer), dial_index(index) {}

    tcp::socket socket;
    raw_socket::peer_id id;
    // A connect endpoint's peer is a slot that outlives its TCP connections (its queue fills
    // while disconnected, as libzmq's does); an accepted peer lives as long as its connection.
    int dial_index;  // -1 when accepted
    // I/O thread only.
    unsigned epoch = 0;  // which TCP connection of this peer the pending handlers belong to
    bool ready = false;  // connected and greeting checked
    bool writing = false;
    bool closed = true;
    std::size_t writing_count = 0;
    std::string in;
    std::string out_bytes;
    std::string remote;
    // Guarded by the socket's mutex.
    // Messages queued for this peer, already encoded: sending costs one append, no allocation
    // once the buffer has grown, and the I/O thread writes the whole buffer at once.
    std::string pending;
    std::size_t pending_count = 0;
    // Ready, with no write in flight and nothing queued: a request or reply may be written
    // straight from the user's thread (see enqueue()). Cleared before the socket is closed.
    bool idle = false;
    // I/O thread only: message storage to decode into, recycled from what the user's thread
    // received; a read's messages are decoded into its front and handed over as one batch.
    std::vector<message> stock;
    std::vector<message> leftover;  // storage a read did not use, kept across a handover
    // I/O thread only: its read loop is parked because the inbound queue was full.
    bool read_stopped = false;
    // I/O thread only: this TCP connection's progress, for the connection limits.
    connection_clock clock;
    bool stale = false;  // reset() dropped it: anything it still delivers is discarded
};
using connection_ptr = std::shared_ptr<connection>;

struct raw_socket::state : std::enable_shared_from_this<raw_socket::state> {
    state(wire::role self_role, std::vector<endpoint> eps, const options& o)
        : self(self_role),
          direct(self_role == wire::role::requester || self_role == wire::role::replier),
          peer_role(wire::peer_of(self_role)),
          endpoints(std::move(eps)),
          opts(o),
          decoder(o.max_message_size) {}

    // The process's raw I/O thread runs every handler below. Each handler holds a reference
    // to this state, so the state outlives them all; after shut_down() they start nothing.
    asio::io_context& io = raw_io();
    bool stopping = false;  // I/O thread only
    wire::role self;
    // Request-reply sends one message at a time and waits: writing it from the user's thread
    // saves the hop through the I/O thread, which is most of a loopback round trip. Streams
    // (pipeline, pub-sub) go through the I/O thread, which writes them in batches.
    bool direct;
    std::string direct_bytes;  // guarded by the mutex
    wire::role peer_role;
    std::vector<endpoint> endpoints;
    options opts;
    wire::decoder decoder;
    std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
    std::vector<std::unique_ptr<asio::steady_timer>> redial_timers;  // by endpoint index
    std::vector<connection_ptr> slots;                               // by endpoint index
    std::vector<connection_ptr> accepted;  // I/O thread only: until dropped, greeting or not
    std::vector<redial_backoff> backoff;   // by endpoint index
    asio::steady_timer limits_timer{io};   // limits_sweep()'s
    connection_limits limits{opts};
    // Written on the I/O thread, read from any (counts()).
    struct {
        std::atomic<std::uint64_t> opened{0}, refused{0}, malformed{0}, handshake_timeouts{0},
            partial_timeouts{0}, idle_timeouts{0};
    } counted;
    int event_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

    mutable std::mutex mutex;
    std::condition_variable inbound_cv;    // receivers and subscription waiters
    std::condition_variable room_cv;       // senders waiting for room, and the lingering close
    fair_queue<peer_id, message> inbound;  // one message per peer in turn
    std::vector<connection_ptr> peers;     // connections that passed the greeting
    std::size_t next_peer = 0;
    std::vector<std::string> subscriptions;  // a subscriber's own
    std::size_t subscriptions_seen = 0;
    // A publisher's subscribers by prefix: what each connection has asked for. A connection's
    // subscriptions end with it (a subscriber replays them when it reconnects), so plain
    // pointers do: matching then costs no reference counting per message.
    topic_trie<connection*> subscribers;
    std::uint64_t dropped = 0;
    std::size_t unsent = 0;  // messages queued or being written
    peer_id next_id = 1;
    // Storage of messages the user has received, back for the decoders to reuse (recycle()):
    // whole batches, each with its messages' bytes when they came back.
    std::vector<std::pair<std::vector<message>, std::size_t>> spare;
    std::size_t spare_count = 0;  // messages
    std::size_t spare_bytes = 0;
    std::vector<message> returned;  // a replier's or requester's, gathered into a batch
    std::size_t returned_bytes = 0;
    std::atomic<bool> interrupted = false;  // written under the mutex
    bool signalled = false;
    // The readable descriptor costs two syscalls a message; it is kept up only once someone
    // asked for it (a poller).
    bool fd_wanted = false;
    bool reading_parked = false;  // some connection's read loop waits for room in its queue

    std::size_t high_water(int mark) const {
        return mark <= 0 ? SIZE_MAX : static_cast<std::size_t>(mark);
    }
    // With the mutex held: `c` may take another message, by count and by bytes queued.
    bool has_room(const connection& c, std::size_t mark) const {
        return c.pending_count < mark &&
               (opts.send_high_water_bytes == 0 || c.pending.size() < opts.send_high_water_bytes);
    }

    void log(const std::string& what) const {
        std::fprintf(stderr, "zpat %s: %s\n", wire::role_name(self), what.c_str());
    }

    // ---- called with the mutex held ----------------------------------------------------

    void signal_readable() {
        if (fd_wanted && !signalled) {
            const std::uint64_t one = 1;
            (void)::write(event_fd, &one, sizeof one);
            signalled = true;
        }
    }
    // Storage of messages the user has received, holding `bytes`, back for the decoders to
    // reuse: no allocation in steady state. Enough for a full inbound queue and a read's batch
    // of small messages, so that none is freed and allocated again; bounded in bytes for large
    // ones.
    void recycle(std::vector<message>&& storage, std::size_t bytes) {
        constexpr std::size_t max_spare = 8192;
        constexpr std::size_t max_spare_bytes = std::size_t{8} << 20;
        if (!storage.empty() && spare_count + storage.size() <= max_spare &&
            spare_bytes + bytes <= max_spare_bytes) {
            spare_count += storage.size();
            spare_bytes += bytes;
            spare.emplace_back(std::move(storage), bytes);
        }
    }
    void clear_readable() {
        if (signalled) {
            std::uint64_t count = 0;
            (void)::read(event_fd, &count, sizeof count);
            signalled = false;
        }
    }
    void enqueue(connection* c, const message& msg) {
        if (direct && c->idle && !c->stale) {
            direct_bytes.clear();
            wire::encode(msg, direct_bytes);
            const auto sent = ::send(c->socket.native_handle(), direct_bytes.data(),
                                     direct_bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
            if (sent == static_cast<ssize_t>(direct_bytes.size())) {
                return;
            }
            // A partial write, a full socket buffer or an error: the I/O thread writes the rest
            // (and meets the error itself, dropping the connection as it always does).
            c->pending.append(direct_bytes, sent > 0 ? static_cast<std::size_t>(sent) : 0);
            ++c->pending_count;
            ++unsent;
            c->idle = false;
            asio::post(io, [self = shared_from_this(), c = c->shared_from_this()] {
                self->write_queued(c);
            });
            return;
        }
        const bool was_empty = c->pending_count == 0;
        wire::encode(msg, c->pending);
        ++c->pending_count;
        ++unsent;
        if (was_empty) {
            asio::post(io, [self = shared_from_this(), c = c->shared_from_this()] {
                self->write_queued(c);
            });
        }
    }

    // ---- the I/O thread ------------------------------------------------------------------

    connection_ptr make_connection(int dial_index) {
        std::lock_guard lock(mutex);
        return std::make_shared<connection>(io, next_id++, dial_index);
    }

    void accept_next(tcp::acceptor& acceptor) {
        auto c = make_connection(-1);
        acceptor.async_accept(c->socket,
                              [this, self = shared_from_this(), &acceptor, c](std::error_code ec) {
                                  if (ec == asio::error::operation_aborted || stopping) {
                                      return;
                                  }
                                  if (ec) {
                                      accept_later(acceptor, ec);
                                      return;
                                  }
                                  accepted.push_back(c);
                                  start(c);
                                  accept_next(acceptor);
                              });
    }

    // An accept failed, at the descriptor limit for instance: try again in a while rather than
    // at once, which would spin the I/O thread for as long as the condition lasts.
    void accept_later(tcp::acceptor& acceptor, std::error_code failed) {
        std::error_code ignored;
        const tcp::endpoint local = acceptor.local_endpoint(ignored);
        log("accept on " + local.address().to_string() + ":" + std::to_string(local.port()) +
            " failed (" + failed.message() + "); trying again in 100 ms");
        auto timer = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(100));
        timer->async_wait([this, self = shared_from_this(), &acceptor, timer](std::error_code e) {
            if (!e && !stopping) {
                accept_next(acceptor);
            }
        });
    }

    // ---- connection limits ---------------------------------------------------------------

    void count_breach(connection_limits::limit broken) {
        switch (broken) {
            case connection_limits::limit::handshake:
                ++counted.handshake_timeouts;
                break;
            case connection_limits::limit::partial_message:
                ++counted.partial_timeouts;
                break;
            case connection_limits::limit::idle:
                ++counted.idle_timeouts;
                break;
            case connection_limits::limit::none:
                break;
        }
    }
    // Closes every connection that broke a limit, then looks again in a while.
    void limits_sweep() {
        const auto now = clock_type::now();
        std::vector<connection_ptr> all = accepted;
        std::copy_if(slots.begin(), slots.end(), std::back_inserter(all),
                     [](const connection_ptr& c) { return c != nullptr; });
        for (const connection_ptr& c : all) {
            if (c->closed) {
                continue;
            }
            c->clock.greeted = c->ready;
            c->clock.reading = !c->read_stopped;
            c->clock.partial_bytes = c->in.size();
            const auto verdict = limits.breach(c->clock, now);
            if (verdict.broken != connection_limits::limit::none) {
                count_breach(verdict.broken);
                drop(c, "closed " + c->remote + ": " + verdict.reason);
            }
        }
        limits_timer.expires_after(limits.sweep_interval());
        limits_timer.async_wait([this, self = shared_from_this()](std::error_code ec) {
            if (!ec && !stopping) {
                limits_sweep();
            }
        });
    }

    void dial(int index) {
        if (stopping) {
            return;
        }
        auto [host, port] = host_and_port(endpoints[static_cast<std::size_t>(index)]);
        auto resolver = std::make_shared<tcp::resolver>(io);
        resolver->async_resolve(
            host, port,
            [this, self = shared_from_this(), index, resolver](
                std::error_code ec, const tcp::resolver::results_type& found) {
                if (stopping) {
                    return;
                }
                if (ec) {
                    redial_later(index);
                    return;
                }
                connection_ptr c = slots[static_cast<std::size_t>(index)];
                asio::async_connect(
                    c->socket, found,
                    [this, self, c, index](std::error_code failed, const tcp::endpoint&) {
                        if (stopping) {
                            return;
                        }
                        if (failed) {
                            std::error_code ignored;
                            c->socket.close(ignored);
                            redial_later(index);
                        } else {
                            start(c);
                        }
                    });
            });
    }

    void redial_later(int index) {
        if (stopping) {
            return;
        }
        auto& timer = *redial_timers[static_cast<std::size_t>(index)];
        timer.expires_after(backoff[static_cast<std::size_t>(index)].next());
        timer.async_wait([this, self = shared_from_this(), index](std::error_code ec) {
            if (!ec && !stopping) {
                dial(index);
            }
        });
    }

    void start(const connection_ptr& c) {
        ++c->epoch;
        c->closed = false;
        c->read_stopped = false;
        c->in.clear();
        c->clock.opened = c->clock.last_heard = clock_type::now();
        ++counted.opened;
        std::error_code ignored;
        c->socket.set_option(tcp::no_delay(true), ignored);
        c->socket.non_blocking(true, ignored);  // read_more() reads once the socket is readable
        const auto remote = c->socket.remote_endpoint(ignored);
        c->remote = remote.address().to_string() + ":" + std::to_string(remote.port());
        c->out_bytes = wire::greeting(self);
        c->writing = true;
        c->writing_count = 0;
        write_bytes(c);
        read_more(c);
    }

    void write_bytes(const connection_ptr& c) {
        const unsigned epoch = c->epoch;
        asio::async_write(
            c->socket, asio::buffer(c->out_bytes),
            [this, self = shared_from_this(), c, epoch](std::error_code ec, std::size_t) {
                if (epoch != c->epoch || c->closed) {
                    return;  // that connection was dropped already
                }
                if (ec) {
                    drop(c, "");
                    return;
                }
                c->writing = false;
                write_queued(c);
            });
    }

    // Counts what was just written as sent, then writes everything queued for `c` in one
    // gathered buffer: small messages share a syscall, and a batch costs one lock.
    void write_queued(const connection_ptr& c) {
        if (c->writing || c->closed) {
            return;
        }
        bool more = false;
        {
            std::lock_guard lock(mutex);
            unsent -= c->writing_count;
            c->writing_count = 0;
            if (c->ready) {
                more = c->pending_count > 0;
                c->idle = !more;
            }
            if (more) {
                // The written buffer goes back as the next pending one: both keep their capacity.
                c->out_bytes.clear();
                std::swap(c->pending, c->out_bytes);
                c->writing_count = c->pending_count;
                c->pending_count = 0;
            } else if (c->pending_count == 0 &&
                       c->pending.capacity() + c->out_bytes.capacity() > max_idle_buffers) {
                // A burst of large messages is over: its buffers go, rather than stay with an
                // idle connection.
                std::string().swap(c->pending);
                std::string().swap(c->out_bytes);
            }
        }
        room_cv.notify_all();
        if (more) {
            c->writing = true;
            write_bytes(c);
        }
    }

    // One read buffer per I/O thread, not one per connection: a connection waits until it is
    // readable and then reads into this, and keeps only the bytes of an unfinished message.
    static std::span<char> read_buffer() {
        thread_local std::vector<char> buffer(read_chunk);
        return buffer;
    }

    void read_more(const connection_ptr& c) {
        const unsigned epoch = c->epoch;
        c->socket.async_wait(tcp::socket::wait_read, [this, self = shared_from_this(), c,
                                                      epoch](std::error_code ec) {
            if (epoch != c->epoch || c->closed) {
                return;
            }
            const std::span<char> buffer = read_buffer();
            std::size_t n = 0;
            if (!ec) {
                n = c->socket.read_some(asio::buffer(buffer.data(), buffer.size()), ec);
            }
            if (ec == asio::error::would_block || ec == asio::error::try_again) {
                read_more(c);
                return;
            }
            if (ec) {
                drop(c, "");
                return;
            }
            if (limits.idle_limited()) {
                c->clock.last_heard = clock_type::now();
            }
            if (!take_input(c, {buffer.data(), n})) {
                return;
            }
            if (inbound_full(c->id)) {
                c->read_stopped = true;  // resume_reading() restarts it
            } else {
                read_more(c);
            }
        });
    }

    // Decodes `data`, just read from `c`. Returns false when `c` was dropped for it.
    bool take_input(const connection_ptr& c, std::string_view data) {
        // The bytes of an unfinished message come first; otherwise decode from the read buffer.
        const bool buffered = !c->in.empty();
        if (buffered) {
            c->in.append(data);
            data = c->in;
        }
        std::size_t at = 0;
        if (!c->ready) {
            if (data.size() < wire::greeting_size) {
                if (!buffered) {
                    c->in.assign(data);
                }
                return true;
            }
            const std::string refusal = wire::check_greeting(data, peer_role);
            if (!refusal.empty()) {
                ++counted.refused;
                drop(c, "refused " + c->remote + ": " + refusal);
                return false;
            }
            at = wire::greeting_size;
            become_ready(c);
        }
        // Decode everything that has arrived, then hand it over under one lock: a read of
        // many small messages costs one lock and one wake-up, not one per message.
        // Each message is decoded in place, into the storage of one the user received earlier.
        bool ok = true;
        std::size_t decoded = 0;
        for (;; ++decoded) {
            if (decoded == c->stock.size()) {
                c->stock.emplace_back();
            }
            std::size_t consumed = 0;
            const auto status = decoder.next(data.substr(at), c->stock[decoded], consumed);
            if (status != wire::decoder::status::message_ready) {
                ok = status == wire::decoder::status::need_more;
                break;
            }
            at += consumed;
        }
        if (!deliver(c, decoded) || !ok) {
            if (!ok) {
                ++counted.malformed;
                drop(c, "dropped " + c->remote + ": " + decoder.reason());
            }
            return false;
        }
        if (buffered) {
            c->in.erase(0, at);
        } else {
            c->in.assign(data.substr(at));
        }
        if (!c->in.empty() && (!buffered || at > 0)) {
            c->clock.partial_since = clock_type::now();  // a new message began in this read
        }
        return true;
    }

    void become_ready(const connection_ptr& c) {
        c->ready = true;
        {
            std::lock_guard lock(mutex);
            if (c->dial_index >= 0) {
                backoff[static_cast<std::size_t>(c->dial_index)].reset();
            } else {
                peers.push_back(c);
            }
            if (self == wire::role::subscriber) {
                // A publisher starts knowing nothing of us: tell it every subscription, once.
                unsent -= c->pending_count;
                c->pending.clear();
                c->pending_count = 0;
                for (const std::string& prefix : subscriptions) {
                    enqueue(c.get(), message{"\x01" + prefix});
                }
            }
        }
        room_cv.notify_all();
        write_queued(c);  // what was queued while it was connecting
    }

    // Hands the first `decoded` messages of `c->stock` to their destination and restocks `c`
    // with spare storage. Returns false when `c` was dropped for what it sent.
    bool deliver(const connection_ptr& c, std::size_t decoded) {
        std::vector<message>& stock = c->stock;
        std::unique_lock lock(mutex);
        const bool was_empty = inbound.empty();
        bool refused = false;
        std::size_t kept = 0;  // messages for the user: stock[0, kept)
        if (self == wire::role::publisher) {
            for (std::size_t i = 0; i < decoded && !refused; ++i) {
                refused = !take_subscription(c.get(), stock[i]);
            }
        } else if (self == wire::role::subscriber) {
            // Sent before our unsubscribe reached the publisher: dropped here.
            for (std::size_t i = 0; i < decoded; ++i) {
                if (matches(subscriptions, stock[i][0])) {
                    std::swap(stock[kept++], stock[i]);
                }
            }
        } else if (!c->stale) {  // stale: an abandoned request's reply, dropped
            kept = decoded;
        }
        if (kept > 0) {
            hand_over(c, kept);
        }
        // Take back as much storage as this read used, so the next one need not allocate.
        const std::size_t restock = std::max<std::size_t>(64, decoded);
        while (stock.size() < restock && !spare.empty()) {
            auto& [storage, bytes] = spare.back();
            spare_count -= storage.size();
            spare_bytes -= bytes;
            if (storage.size() > stock.size()) {
                std::swap(stock, storage);  // the smaller of the two is the one moved
            }
            std::move(storage.begin(), storage.end(), std::back_inserter(stock));
            spare.pop_back();
        }
        if (was_empty && !inbound.empty()) {
            signal_readable();
            inbound_cv.notify_all();  // a batch may hold work for every waiting receiver
        }
        if (refused) {
            lock.unlock();
            ++counted.malformed;
            drop(c, "dropped " + c->remote +
                        ": a subscriber sent something other than a subscription");
            return false;
        }
        return true;
    }

    // With the mutex held: queues the first `kept` messages of `c->stock` as one batch, and
    // keeps the storage after them as the stock. Whichever part is smaller is the one moved.
    void hand_over(const connection_ptr& c, std::size_t kept) {
        std::vector<message>& stock = c->stock;
        std::vector<message>& part = c->leftover;
        const auto at = [&](std::size_t i) {
            return stock.begin() + static_cast<std::ptrdiff_t>(i);
        };
        const std::size_t unused = stock.size() - kept;
        if (unused <= kept) {
            part.assign(std::make_move_iterator(at(kept)), std::make_move_iterator(stock.end()));
            stock.resize(kept);
            inbound.push(c->id, std::move(stock));
            stock.clear();  // moved from: valid, but unspecified
            std::swap(stock, part);
        } else {
            std::swap_ranges(at(0), at(kept), at(stock.size() - kept));  // the messages go last
            part.assign(std::make_move_iterator(at(unused)), std::make_move_iterator(stock.end()));
            stock.resize(unused);
            inbound.push(c->id, std::move(part));
            part.clear();
        }
    }

    // Publisher, with the mutex held: applies a subscriber's (un)subscribe command. Returns
    // false when `msg` is not one.
    bool take_subscription(connection* c, const message& msg) {
        if (msg.size() != 1 || msg[0].empty() || (msg[0][0] != '\x01' && msg[0][0] != '\x00')) {
            return false;
        }
        const std::string prefix = msg[0].substr(1);
        if (msg[0][0] == '\x01') {
            subscribers.add(prefix, c);
            ++subscriptions_seen;
            inbound_cv.notify_all();
        } else {
            subscribers.remove(prefix, c);
        }
        return true;
    }

    // Backpressure, per peer: a peer with a high-water mark of messages waiting stops being
    // read, while the others go on. Only the I/O thread starts and stops read loops, so a
    // connection never has two reads outstanding; deciding to park and raising the flag that
    // receive() checks happen under one lock, so a park is never missed.
    bool inbound_full(peer_id peer) {
        std::lock_guard lock(mutex);
        if (inbound.size_of(peer) < high_water(opts.receive_high_water_mark)) {
            return false;
        }
        reading_parked = true;
        return true;
    }
    // Restarts the parked read loops of peers whose queues have room again; a peer still at its
    // mark stays parked (inbound_full() raises the flag again, so a later receive retries).
    void resume_reading() {
        if (stopping) {
            return;
        }
        for (const connection_ptr& c : all_connections()) {
            if (c->read_stopped && !c->closed && !inbound_full(c->id)) {
                c->read_stopped = false;
                c->clock.partial_since = c->clock.last_heard = clock_type::now();  // our wait
                read_more(c);
            }
        }
    }
    std::vector<connection_ptr> all_connections() {
        std::lock_guard lock(mutex);
        return peers;
    }

    // Ends everything of this socket's on the I/O thread: its connections, listeners and
    // timers. Handlers still queued find their connection closed or `stopping` set.
    void shut_down() {
        stopping = true;
        std::error_code ignored;
        for (auto& acceptor : acceptors) {
            acceptor->close(ignored);
        }
        for (auto& timer : redial_timers) {
            timer->cancel();
        }
        limits_timer.cancel();
        // Accepted connections still in their greeting are not peers yet: close them too.
        std::vector<connection_ptr> all = accepted;
        std::copy_if(slots.begin(), slots.end(), std::back_inserter(all),
                     [](const connection_ptr& c) { return c != nullptr; });
        for (const connection_ptr& c : all) {
            drop(c, "");
            c->socket.close(ignored);  // a slot may be between connections, still dialling
        }
    }

    ~state() { ::close(event_fd); }
    state(const state&) = delete;
    state& operator=(const state&) = delete;

    // Ends `c`'s current TCP connection. An accepted peer leaves with its queue; a connect
    // endpoint's slot keeps its queue (what was being written is lost) and redials.
    void drop(const connection_ptr& c, const std::string& reason, bool redial_now = false) {
        if (c->closed) {
            return;
        }
        c->closed = true;
        c->ready = false;
        if (!reason.empty()) {
            log(reason);
        }
        {
            std::lock_guard lock(mutex);
            c->idle = false;  // no user thread may write to the descriptor being closed
        }
        std::error_code ignored;
        c->socket.close(ignored);
        {
            std::lock_guard lock(mutex);
            unsent -= c->writing_count;
            subscribers.remove_peer(c.get());
            if (c->dial_index < 0) {
                std::erase(accepted, c);
                inbound.forget(c->id);  // a slot keeps its id across reconnections
                std::erase(peers, c);
                unsent -= c->pending_count;
                c->pending.clear();
                c->pending_count = 0;
            }
            c->stale = false;
        }
        c->writing = false;
        c->writing_count = 0;
        room_cv.notify_all();
        if (c->dial_index >= 0) {
            if (redial_now) {
                dial(c->dial_index);
            } else {
                redial_later(c->dial_index);
            }
        }
    }
};

raw_socket::raw_socket(wire::role self, std::vector<endpoint> endpoints, const options& opts)
    : state_(std::make_shared<state>(self, std::move(endpoints), opts)),
      batched_(self == wire::role::puller || self == wire::role::subscriber) {
    state& s = *state_;
    s.backoff.resize(s.endpoints.size());
    for (std::size_t i = 0; i < s.endpoints.size(); ++i) {
        const endpoint& ep = s.endpoints[i];
        s.redial_timers.push_back(std::make_unique<asio::steady_timer>(s.io));
        s.slots.push_back(nullptr);
        if (ep.side == link::connect) {
            resolved_.push_back(ep.url());
            s.slots.back() = s.make_connection(static_cast<int>(i));
            s.peers.push_back(s.slots.back());
            continue;
        }
        auto [acceptor, url] = listen_on(s.io, ep);
        resolved_.push_back(std::move(url));
        s.acceptors.push_back(std::move(acceptor));
    }
    // From here on the state is the I/O thread's to touch.
    asio::post(s.io, [self = state_] {
        self->limits_sweep();
        for (auto& acceptor : self->acceptors) {
            self->accept_next(*acceptor);
        }
        for (std::size_t i = 0; i < self->endpoints.size(); ++i) {
            if (self->endpoints[i].side == link::connect) {
                self->dial(static_cast<int>(i));
            }
        }
    });
}

raw_socket::~raw_socket() {
    state& s = *state_;
    {
        std::unique_lock lock(s.mutex);
        const auto flushed = [&] { return s.unsent == 0; };
        if (s.opts.linger == forever) {
            s.room_cv.wait(lock, flushed);
        } else {
            s.room_cv.wait_for(lock, s.opts.linger, flushed);
        }
    }
    if (s.io.stopped()) {
        s.shut_down();  // the process is exiting, and the I/O thread with it
        return;
    }
    // Returns with every connection and listener closed (a port can be bound again at once);
    // handlers still queued end the state when the last of them has run.
    std::promise<void> done;
    asio::post(s.io, [&s, &done] {
        s.shut_down();
        done.set_value();
    });
    done.get_future().wait();
}

bool raw_socket::send_round_robin(const message& msg) {
    state& s = *state_;
    std::unique_lock lock(s.mutex);
    // The clock is read only if the call has to wait: most sends find room at once.
    std::optional<clock_type::time_point> deadline;
    const std::size_t mark = s.high_water(s.opts.send_high_water_mark);
    for (;;) {
        const std::size_t n = s.peers.size();
        for (std::size_t k = 0; k < n; ++k) {
            const std::size_t index = (s.next_peer + k) % n;
            if (s.has_room(*s.peers[index], mark)) {
                s.next_peer = (index + 1) % n;
                s.enqueue(s.peers[index].get(), msg);
                return true;
            }
        }
        if (!deadline) {
            deadline = clock_type::now() + s.opts.send_timeout;
        }
        if (s.opts.send_timeout == forever) {
            s.room_cv.wait(lock);
        } else if (s.opts.send_timeout.count() == 0 ||
                   s.room_cv.wait_until(lock, *deadline) == std::cv_status::timeout) {
            if (clock_type::now() >= *deadline) {
                return false;
            }
        }
    }
}

bool raw_socket::send_to_subscribers(const message& msg, bool wait_for_room) {
    state& s = *state_;
    std::unique_lock lock(s.mutex);
    const std::size_t mark = s.high_water(s.opts.send_high_water_mark);
    if (wait_for_room) {
        std::optional<clock_type::time_point> deadline;  // read only if the call has to wait
        for (;;) {
            bool any_full = false;
            s.subscribers.match(
                msg[0], [&](connection* c) { any_full = any_full || !s.has_room(*c, mark); });
            if (!any_full) {
                break;
            }
            if (!deadline) {
                deadline = clock_type::now() + s.opts.send_timeout;
            }
            if (s.opts.send_timeout == forever) {
                s.room_cv.wait(lock);
            } else if (s.room_cv.wait_until(lock, *deadline) == std::cv_status::timeout) {
                return false;
            }
        }
    }
    s.subscribers.match(msg[0], [&](connection* c) {
        if (!s.has_room(*c, mark)) {
            ++s.dropped;
        } else {
            s.enqueue(c, msg);
        }
    });
    return true;
}

bool raw_socket::send_to(peer_id peer, const message& msg) {
    state& s = *state_;
    std::lock_guard lock(s.mutex);
    for (const connection_ptr& c : s.peers) {
        if (c->id == peer) {
            s.enqueue(c.get(), msg);
            return true;
        }
    }
    return false;
}

bool raw_socket::receive(message& into, milliseconds timeout, peer_id* from) {
    state& s = *state_;
    if (batched_ && next_taken_ < taken_.size()) {
        if (s.interrupted.load(std::memory_order_relaxed)) {
            return false;
        }
        hand_out(into, from);
        if (next_taken_ == taken_.size() && fd_wanted_) {
            // A poller waits on the descriptor: it must fall only when nothing at all waits.
            std::lock_guard lock(s.mutex);
            take_batch();
        }
        return true;
    }
    std::unique_lock lock(s.mutex);
    const auto ready = [&] { return s.interrupted || !s.inbound.empty(); };
    if (ready()) {
        // Nothing to wait for: skip the clock read a timed wait would make.
    } else if (timeout == forever) {
        s.inbound_cv.wait(lock, ready);
    } else if (!s.inbound_cv.wait_for(lock, timeout, ready)) {
        return false;
    }
    if (s.interrupted) {
        return false;
    }
    if (batched_) {
        take_batch();
        hand_out(into, from);
        if (next_taken_ == taken_.size() && s.inbound.empty()) {
            s.clear_readable();
        }
        return true;
    }
    auto [peer, msg] = s.inbound.pop();
    // The caller's old storage goes back to the decoders: no allocation in steady state.
    std::swap(into, msg);
    s.returned_bytes += keep_small(msg);
    s.returned.push_back(std::move(msg));
    if (s.returned.size() == 64) {
        s.recycle(std::move(s.returned), std::exchange(s.returned_bytes, 0));
        s.returned.clear();
    }
    if (from != nullptr) {
        *from = peer;
    }
    if (s.inbound.empty()) {
        s.clear_readable();
    }
    if (s.reading_parked &&
        s.inbound.size_of(peer) < s.high_water(s.opts.receive_high_water_mark)) {
        s.reading_parked = false;
        asio::post(s.io, [self = state_] { self->resume_reading(); });
    }
    return true;
}

void raw_socket::take_batch() {
    state& s = *state_;
    // The batch handed out now holds the caller's old storage.
    s.recycle(std::move(taken_), std::exchange(taken_bytes_, 0));
    taken_.clear();
    taken_from_.clear();
    next_taken_ = 0;
    s.inbound.take(taken_, taken_from_, batch_limit);
    if (taken_.empty() && s.inbound.empty()) {
        s.clear_readable();
    }
    if (s.reading_parked) {
        // A parked peer may have room now; one still at its mark is parked again.
        s.reading_parked = false;
        asio::post(s.io, [self = state_] { self->resume_reading(); });
    }
}

void raw_socket::hand_out(message& into, peer_id* from) {
    const std::size_t next = next_taken_++;
    // The caller's old storage stays in the batch, back to the decoders with the next one.
    std::swap(into, taken_[next]);
    taken_bytes_ += keep_small(taken_[next]);
    if (from != nullptr) {
        *from = taken_from_[next];
    }
}

void raw_socket::interrupt() {
    std::lock_guard lock(state_->mutex);
    state_->interrupted = true;
    state_->inbound_cv.notify_all();
}

void raw_socket::clear_interrupt() {
    std::lock_guard lock(state_->mutex);
    state_->interrupted = false;
}

void raw_socket::subscribe(std::string_view prefix, bool add) {
    state& s = *state_;
    std::lock_guard lock(s.mutex);
    if (add) {
        s.subscriptions.emplace_back(prefix);
    } else if (auto it = std::find(s.subscriptions.begin(), s.subscriptions.end(), prefix);
               it != s.subscriptions.end()) {
        s.subscriptions.erase(it);
    } else {
        return;
    }
    const message command{std::string(1, add ? '\x01' : '\x00') + std::string(prefix)};
    for (const connection_ptr& c : s.peers) {
        s.enqueue(c.get(), command);
    }
    if (!add) {
        // What already arrived for the topic is held back too, as libzmq's SUB does.
        const auto unwanted = [&](const message& msg) { return !matches(s.subscriptions, msg[0]); };
        s.inbound.remove_if(unwanted);
        std::size_t kept = next_taken_;
        for (std::size_t i = next_taken_; i < taken_.size(); ++i) {
            if (!unwanted(taken_[i])) {
                std::swap(taken_[kept], taken_[i]);
                taken_from_[kept++] = taken_from_[i];
            }
        }
        taken_.resize(kept);  // the storage dropped is the messages held back
        taken_from_.resize(kept);
    }
}

std::size_t raw_socket::subscriptions_seen() const {
    std::lock_guard lock(state_->mutex);
    return state_->subscriptions_seen;
}

bool raw_socket::wait_for_subscriptions(std::size_t count, milliseconds timeout) {
    state& s = *state_;
    std::unique_lock lock(s.mutex);
    const auto enough = [&] { return s.subscriptions_seen >= count; };
    if (timeout == forever) {
        s.inbound_cv.wait(lock, enough);
        return true;
    }
    return s.inbound_cv.wait_for(lock, timeout, enough);
}

void raw_socket::reset() {
    state& s = *state_;
    std::vector<connection_ptr> old;
    {
        std::lock_guard lock(s.mutex);
        s.inbound.clear();
        s.clear_readable();
        old = s.peers;
        for (const connection_ptr& c : old) {
            s.unsent -= c->pending_count;
            c->pending.clear();
            c->pending_count = 0;
            c->stale = true;  // whatever it still delivers belongs to an abandoned request
        }
    }
    asio::post(s.io, [self = state_, old] {
        for (const connection_ptr& c : old) {
            if (c->closed) {
                std::lock_guard lock(self->mutex);
                c->stale = false;  // not connected: nothing old can arrive on it
            } else {
                self->drop(c, "", true);
            }
        }
    });
}

int raw_socket::readable_fd() const {
    state& s = *state_;
    std::lock_guard lock(s.mutex);
    fd_wanted_ = true;
    if (!s.fd_wanted) {
        s.fd_wanted = true;
        if (!s.inbound.empty() || next_taken_ < taken_.size()) {
            s.signal_readable();
        }
    }
    return s.event_fd;
}

std::uint64_t raw_socket::dropped() const {
    std::lock_guard lock(state_->mutex);
    return state_->dropped;
}

connection_counts raw_socket::counts() const {
    const auto& c = state_->counted;
    return {c.opened.load(),           c.refused.load(),
            c.malformed.load(),        c.handshake_timeouts.load(),
            c.partial_timeouts.load(), c.idle_timeouts.load()};
}

}  // namespace zpat::detail
