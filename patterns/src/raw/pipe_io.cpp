// pipe_set, continued: one pipe's life on the I/O thread. Its connection begins (writing is in
// pipe_write.cpp), reads and decodes, hands what arrived to the role, parks while the role's
// receiver is full, and ends.

#include <sys/socket.h>

#include <algorithm>
#include <asio.hpp>
#include <cstring>
#include <span>

#include "encoded_batch.hpp"
#include "pipe_set.hpp"

namespace zpat::detail {

using asio::ip::tcp;

namespace {

// Reads of small messages move at most 64 KiB at a time, as writes do: the bytes then pass
// through the kernel and the decoder while they are still in the CPU's cache (a 256 KiB read of
// 64-byte messages decodes into several times its size). Large messages are copied once, into
// their own frames, whatever the read's size, so for them fewer and larger reads win: 256 KiB.
constexpr std::size_t read_chunk = std::size_t{64} * 1024;
constexpr std::size_t large_read_chunk = std::size_t{256} * 1024;
// A read that brought this much per message, or only part of one, makes the next one large.
constexpr std::size_t large_message_bytes = std::size_t{16} * 1024;
// A TLS record carries at most 16 KiB, and a read returns at most one record's bytes.
constexpr std::size_t tls_read_chunk = std::size_t{16} * 1024;

// One read buffer per I/O thread, not one per pipe: a pipe waits until it is readable and then
// reads into this, and keeps only the bytes of an unfinished message.
std::span<char> read_buffer(bool large) {
    thread_local std::vector<char> buffer(large_read_chunk);
    return {buffer.data(), large ? large_read_chunk : read_chunk};
}

// Makes `storage`, whose first `kept` bytes matter, hold at least `room` more after them. It
// grows to twice what it keeps when that is more, so that a large message arriving over many
// reads is moved a bounded number of times, and small storage to twice its size, so that reads
// of varying sizes settle on storage that fits them instead of growing it by each one.
void make_room(std::string& storage, std::size_t kept, std::size_t room) {
    if (storage.size() - kept >= room) {
        return;
    }
    std::string grown(
        std::max({kept + room, 2 * kept, std::min(2 * storage.size(), large_read_chunk)}), '\0');
    std::memcpy(grown.data(), storage.data(), kept);
    storage.swap(grown);
}

}  // namespace

// ---- the I/O thread: one connection --------------------------------------------------------

void pipe_set::begin(const pipe_ptr& p) {
    ++p->epoch;
    p->closed = false;
    p->read_stopped = false;
    p->greeting_in.clear();
    p->decoder.reset();
    p->pending_bytes = 0;
    p->clock.opened = p->clock.last_heard = clock_type::now();
    ++counted_.opened;
    std::error_code ignored;
    p->socket.set_option(tcp::no_delay(true), ignored);
    p->socket.non_blocking(true, ignored);  // read_more() reads once the socket is readable
    p->remote = address_text(p->socket.remote_endpoint(ignored));
    if (tls_server_ || tls_client_) {
        secure(p);
    } else {
        converse(p);
    }
}

// raw+tls: the TLS handshake comes first. It counts as the greeting does against
// options::handshake_timeout (the limits sweep sees the pipe not ready yet).
void pipe_set::secure(const pipe_ptr& p) {
    const bool server = p->accepted();
    p->tls =
        std::make_shared<tls_stream>(std::move(p->socket), server ? *tls_server_ : *tls_client_);
    if (!server) {
        const auto& tls = opts_.tls;
        expect_server(
            *p->tls,
            tls && !tls->server_name.empty()
                ? tls->server_name
                : host_and_port(endpoints_[static_cast<std::size_t>(p->dial_index)]).first);
    }
    const unsigned epoch = p->epoch;
    p->tls->async_handshake(
        server ? tls_stream::server : tls_stream::client,
        [this, self = shared_from_this(), p, epoch, tls = p->tls](std::error_code ec) {
            if (epoch != p->epoch || p->closed) {
                return;
            }
            if (ec) {
                refuse_tls(p,
                           "TLS handshake with " + p->remote + " failed: " + tls_failure(*tls, ec));
                return;
            }
            converse(p);
        });
}

// The connection is ready for zpat's own bytes: our greeting goes out, and reading begins.
void pipe_set::converse(const pipe_ptr& p) {
    if (framed_) {
        p->out.start_with(wire::greeting(self_));
        p->writing = true;
        write_bytes(p);
    } else {
        greeted(p);  // nothing to wait for
    }
    read_more(p);
}

// A TLS handshake failed (or, in TLS 1.3, the server refused our certificate once the client's
// half was done): counted, logged at most once a second, told to a connecting role, dropped.
void pipe_set::refuse_tls(const pipe_ptr& p, const std::string& why) {
    ++counted_.refused;
    refusals_.say(name_, why);
    if (!p->accepted()) {
        std::lock_guard lock(mutex_);
        events_->refused(*p, why);
    }
    drop(p, "");
}

void pipe_set::read_more(const pipe_ptr& p) {
    const unsigned epoch = p->epoch;
    if (p->tls) {
        // TLS decrypts into the pipe's own buffer: the read is outstanding until a record is
        // whole, so one buffer per thread would not do.
        p->tls_in.resize(tls_read_chunk);
        p->tls->async_read_some(asio::buffer(p->tls_in),
                                [this, self = shared_from_this(), p, epoch, tls = p->tls](
                                    std::error_code ec, std::size_t n) {
                                    if (epoch == p->epoch && !p->closed) {
                                        took(p, ec, {p->tls_in.data(), n});
                                    }
                                });
        return;
    }
    p->socket.async_wait(
        tcp::socket::wait_read, [this, self = shared_from_this(), p, epoch](std::error_code ec) {
            if (epoch != p->epoch || p->closed) {
                return;
            }
            const std::span<char> buffer = read_target(*p);
            std::size_t n = 0;
            if (!ec) {
                n = p->socket.read_some(asio::buffer(buffer.data(), buffer.size()), ec);
            }
            if (ec == asio::error::would_block || ec == asio::error::try_again) {
                read_more(p);
                return;
            }
            took(p, ec, {buffer.data(), n});
        });
}

// What one read of `p` brought, or the error that ended it.
void pipe_set::took(const pipe_ptr& p, std::error_code ec, std::string_view data) {
    if (ec) {
        if (p->tls && !p->ready && ec.category() == asio::error::get_ssl_category()) {
            // TLS 1.3: a server that refuses our certificate says so after our handshake.
            refuse_tls(p, "TLS with " + p->remote + " failed: " + tls_failure(*p->tls, ec));
        } else {
            drop(p, "");
        }
        return;
    }
    if (limits_.idle_limited()) {
        p->clock.last_heard = clock_type::now();
    }
    if (!take_input(p, data)) {
        return;
    }
    if (is_full(*p)) {
        p->read_stopped = true;  // resume_reading() restarts it
    } else {
        read_more(p);
    }
}

// Decodes `data`, just read from `p`. Returns false when `p` was dropped for it.
bool pipe_set::take_input(const pipe_ptr& p, std::string_view data) {
    if (!framed_) {
        if (p->stock.empty()) {
            p->stock.emplace_back();
        }
        p->stock[0].truncate(0);
        p->stock[0].push_back(data);
        return deliver(p, 1, 1, data.size());
    }
    if (!p->ready) {
        if (!take_greeting(p, data)) {
            return false;  // refused, and dropped
        }
        if (!p->ready) {
            return true;  // not all of it yet
        }
    }
    if (encoded_) {
        return take_encoded(p, data);
    }
    // Decode everything that has arrived, then hand it over under one lock: a read of many
    // small messages costs one lock and one wake-up, not one per message. A message is built in
    // p->partial, its frames copied once from the read, and swapped into the stock when whole.
    const std::size_t bytes = data.size();
    const bool was_mid_message = p->decoder.mid_message();
    bool ok = true;
    std::size_t decoded = 0;
    for (;;) {
        const auto status = p->decoder.feed(data, p->partial);
        if (status != wire::stream_decoder::status::message_ready) {
            ok = status == wire::stream_decoder::status::need_more;
            break;
        }
        if (decoded == p->stock.size()) {
            p->stock.emplace_back();
        }
        std::swap(p->partial, p->stock[decoded++]);  // the stock's storage builds the next one
    }
    p->large_reads = decoded == 0 || bytes / decoded >= large_message_bytes;
    if (!deliver(p, decoded, decoded, bytes)) {
        return false;
    }
    if (!ok) {
        ++counted_.malformed;
        drop(p, "dropped " + p->remote + ": " + p->decoder.reason());
        return false;
    }
    if (p->decoder.mid_message() && (decoded > 0 || !was_mid_message)) {
        p->clock.partial_since = clock_type::now();  // a new message began in this read
    }
    return true;
}

// Where the next read of `p` lands. An encoded connection's reads land in the storage of its next
// batch, after the bytes of the message the last one left unfinished, when that storage has room
// for a read: the batch takes them there, with no copy. Storage circulates between the pipe and
// the inbox at the sizes earlier reads gave it, and none is grown for a read that may bring
// little (a std::string zero-fills what it grows by). The other reads land in the I/O thread's
// buffer and are decoded or gathered from it.
std::span<char> pipe_set::read_target(pipe& p) const {
    if (!encoded_ || !p.ready || p.pending.size() - p.pending_bytes < read_chunk) {
        return read_buffer(p.large_reads);
    }
    return {p.pending.data() + p.pending_bytes, p.pending.size() - p.pending_bytes};
}

// Checks the messages in `data`, just read from `p`, and hands the whole ones over as one
// encoded batch; an unfinished one waits in p->pending for the rest of its bytes. Returns false
// when `p` was dropped for them.
bool pipe_set::take_encoded(const pipe_ptr& p, std::string_view data) {
    const std::size_t bytes = data.size();
    const bool was_mid_message = p->mid_message();
    if (!data.empty() && data.data() != p->pending.data() + p->pending_bytes) {
        // Read elsewhere (into the I/O thread's buffer, decrypted by TLS, behind the greeting):
        // gathered where a read in place lands.
        make_room(p->pending, p->pending_bytes, data.size());
        std::memcpy(p->pending.data() + p->pending_bytes, data.data(), data.size());
    }
    p->pending_bytes += data.size();
    wire::decoder::scanned whole;
    const bool ok = p->decoder.check({p->pending.data(), p->pending_bytes}, whole);
    if (p->stock.empty()) {
        p->stock.emplace_back();
    }
    // Nothing is decoded, so no decoded working set outgrows the cache: read all there is.
    p->large_reads = true;
    if (whole.messages > 0) {
        // The batch takes the storage the bytes were read or gathered into; the tail after the
        // whole messages moves to the front of the storage the batch had, where the next read
        // follows it.
        std::string& batch = encoded_batch::reset(p->stock[0]);
        const std::size_t tail = p->pending_bytes - whole.bytes;
        batch.swap(p->pending);
        make_room(p->pending, 0, tail);
        std::memcpy(p->pending.data(), batch.data() + whole.bytes, tail);
        p->pending_bytes = tail;
        encoded_batch::set(p->stock[0], whole.bytes, whole.messages);
        if (!deliver(p, 1, whole.messages, bytes)) {
            return false;
        }
    }
    if (!ok) {
        ++counted_.malformed;
        drop(p, "dropped " + p->remote + ": " + p->decoder.reason());
        return false;
    }
    if (p->mid_message() && (whole.messages > 0 || !was_mid_message)) {
        p->clock.partial_since = clock_type::now();  // a new message began in this read
    }
    return true;
}

// Takes the peer's greeting from the front of `data` (which loses it) once all of it has come.
// Returns false when `p` was refused.
bool pipe_set::take_greeting(const pipe_ptr& p, std::string_view& data) {
    const std::size_t take = std::min(wire::greeting_size - p->greeting_in.size(), data.size());
    p->greeting_in.append(data.substr(0, take));
    data.remove_prefix(take);
    if (p->greeting_in.size() < wire::greeting_size) {
        return true;
    }
    const std::string refusal = wire::check_greeting(p->greeting_in, wire::peer_of(self_));
    if (!refusal.empty()) {
        ++counted_.refused;
        drop(p, "refused " + p->remote + ": " + refusal);
        return false;
    }
    greeted(p);
    return true;
}

// `p` may be sent to: it joins the peers, and what was queued while it connected goes out.
void pipe_set::greeted(const pipe_ptr& p) {
    p->ready = true;
    {
        std::lock_guard lock(mutex_);
        p->live = true;
        p->peer_address = p->remote;
        p->since = std::chrono::system_clock::now();
        p->carried = {};
        if (p->accepted()) {
            peers_.push_back(p);
        } else {
            backoff_[static_cast<std::size_t>(p->dial_index)].reset();
        }
        events_->greeted(*p);
    }
    room_cv_.notify_all();
    write_queued(p);
}

// Hands the first `items` of p->stock (`messages` messages, from a read of `bytes`) to the
// role. Returns false when `p` was dropped for what it sent.
bool pipe_set::deliver(const pipe_ptr& p, std::size_t items, std::size_t messages,
                       std::size_t bytes) {
    drop_reason reason;
    {
        std::lock_guard lock(mutex_);
        p->carried.messages_in += messages;
        p->carried.bytes_in += bytes;
        reason = events_->arrived(*p, items);
    }
    if (reason.why == nullptr) {
        return true;
    }
    ++(reason.over_limit ? counted_.over_limits : counted_.malformed);
    drop(p, "dropped " + p->remote + ": " + reason.why);
    return false;
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
    ++counted_.closed;
    if (!reason.empty()) {
        log(reason);
    }
    bool redial = false;
    {
        // All under one lock, before the descriptor closes: once the peer can see the close, no
        // user thread may still pick this pipe for a message (it would be lost with the pipe)
        // or write to the descriptor.
        std::lock_guard lock(mutex_);
        p->idle = false;
        p->live = false;
        unsent_ -= p->out.messages;  // what was being written is lost
        p->queued.recycle(p->out);
        events_->ended(*p);
        if (p->accepted()) {
            std::erase(accepted_, p);
            std::erase(peers_, p);
            discard_queued(*p);
        } else {
            unsent_ -= p->queued.drop_torn();  // the next connection starts at a message
        }
        p->stale = false;
        redial = !p->accepted() && !p->closing;
    }
    std::error_code ignored;
    p->socket.close(ignored);
    if (p->tls) {
        p->tls->next_layer().close(ignored);
    }
    p->writing = false;
    room_cv_.notify_all();
    if (redial) {
        if (redial_now) {
            dial(p->dial_index);
        } else {
            redial_later(p->dial_index);
        }
    }
}

}  // namespace zpat::detail
