// pipe_set, continued: sending. What a role queues for a pipe, with the mutex held (or, to an
// idle pipe, writes at once from its own thread), and how the I/O thread writes it in batches.

#include <sys/socket.h>

#include <array>
#include <asio.hpp>
#include <string_view>

#include "pipe_set.hpp"

namespace zpat::detail {

namespace {

// Writes move at most 64 KiB at a time, as reads do (pipe_io.cpp): the bytes are copied into
// the kernel while they are still in the CPU's cache.
constexpr std::size_t write_chunk = std::size_t{64} * 1024;

}  // namespace

// ---- sending, with the mutex held --------------------------------------------------------

void pipe_set::enqueue(pipe& p, const message& msg) {
    // (Over TLS every byte goes through the connection's TLS stream, on the I/O thread.)
    if (direct_ && p.idle && !p.stale && !tls_server_ && !tls_client_) {
        direct_bytes_.clear();
        wire::encode(msg, direct_bytes_);
        const auto sent = ::send(p.socket.native_handle(), direct_bytes_.data(),
                                 direct_bytes_.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
        if (sent == static_cast<ssize_t>(direct_bytes_.size())) {
            ++p.carried.messages_out;
            p.carried.bytes_out += direct_bytes_.size();
            return;
        }
        p.carried.bytes_out += sent > 0 ? static_cast<std::size_t>(sent) : 0;
        // A partial write, a full socket buffer or an error: the I/O thread writes the rest
        // (and meets the error itself, dropping the connection as it always does).
        const std::size_t head = sent > 0 ? static_cast<std::size_t>(sent) : 0;
        p.queued.push_bytes(std::string_view(direct_bytes_).substr(head), head > 0);
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

void pipe_set::enqueue_bytes(pipe& p, std::string_view bytes) {
    ++unsent_;
    if (p.queue_bytes(bytes)) {
        asio::post(
            io_, [self = shared_from_this(), p = p.shared_from_this()] { self->write_queued(p); });
    }
}

void pipe_set::write_gathered(pipe& p) {
    std::array<iovec, max_gathered> pieces{};
    for (std::size_t i = 0; i < p.gathered.size(); ++i) {
        pieces.at(i) = {const_cast<char*>(p.gathered[i].data()), p.gathered[i].size()};
    }
    msghdr header{};
    header.msg_iov = pieces.data();
    header.msg_iovlen = p.gathered.size();
    const auto sent = ::sendmsg(p.socket.native_handle(), &header, MSG_DONTWAIT | MSG_NOSIGNAL);
    std::size_t unwritten =
        sent > 0 ? p.gathered_bytes - static_cast<std::size_t>(sent) : p.gathered_bytes;
    p.carried.bytes_out += p.gathered_bytes - unwritten;
    // The messages written whole are sent; the rest (after a full socket buffer or an error,
    // which the I/O thread meets and drops the connection for, as it always does) go to the
    // queue, a torn message's tail first.
    std::size_t skip = p.gathered_bytes - unwritten;
    for (std::string_view run : p.gathered) {
        while (!run.empty()) {
            const std::size_t size = wire::encoded_message::at(run).bytes.size();
            if (skip >= size) {
                ++p.carried.messages_out;
                skip -= size;
            } else {
                p.queued.push_bytes(run.substr(skip, size - skip), skip > 0);
                ++unsent_;
                skip = 0;
            }
            run.remove_prefix(size);
        }
    }
    if (unwritten > 0) {
        p.idle = false;
        asio::post(
            io_, [self = shared_from_this(), p = p.shared_from_this()] { self->write_queued(p); });
    }
    p.gathered.clear();
    p.gathered_messages = 0;
    p.gathered_bytes = 0;
}

void pipe_set::close_when_written(pipe& p) {
    p.closing = true;
    asio::post(io_,
               [self = shared_from_this(), p = p.shared_from_this()] { self->write_queued(p); });
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

// ---- the I/O thread: writing ----------------------------------------------------------------

// Writes p->out from where it stands, up to write_chunk bytes at a time in one gather write.
void pipe_set::write_bytes(const pipe_ptr& p) {
    const unsigned epoch = p->epoch;
    std::array<std::string_view, 16> views;
    const std::size_t count = p->out.next(views, write_chunk);
    // By value: the operation keeps its own copy of the pieces (those past `count` are empty).
    std::array<asio::const_buffer, views.size()> pieces;
    for (std::size_t i = 0; i < count; ++i) {
        pieces[i] = asio::buffer(views[i]);
    }
    auto written = [this, self = shared_from_this(), p, epoch, tls = p->tls](std::error_code ec,
                                                                             std::size_t n) {
        if (epoch != p->epoch || p->closed) {
            return;  // that connection was dropped already
        }
        if (ec) {
            drop(p, "");
            return;
        }
        p->out.advance(n);
        if (!p->out.done()) {
            write_bytes(p);
            return;
        }
        p->writing = false;
        write_queued(p);
    };
    if (p->tls) {
        p->tls->async_write_some(pieces, std::move(written));
    } else {
        p->socket.async_write_some(pieces, std::move(written));
    }
}

// Counts what was just written as sent, then takes the next batch queued for `p`: small
// messages share a syscall, and a batch costs one lock.
void pipe_set::write_queued(const pipe_ptr& p) {
    if (p->writing || p->closed) {
        return;
    }
    bool more = false;
    bool done = false;  // closing, and everything is written
    {
        std::lock_guard lock(mutex_);
        p->carried.messages_out += p->out.messages;  // all written
        p->carried.bytes_out += p->out.bytes;
        unsent_ -= p->out.messages;
        if (p->ready) {
            more = p->take_queued();
            p->idle = !more;
            done = !more && p->closing;
        } else {
            p->queued.recycle(p->out);
        }
    }
    room_cv_.notify_all();
    if (more) {
        p->writing = true;
        write_bytes(p);
    } else if (done) {
        drop(p, "");
    }
}

}  // namespace zpat::detail
