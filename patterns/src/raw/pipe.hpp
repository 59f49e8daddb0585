#pragma once
// pipe: one peer of a raw socket, as libzmq's pipe is. A framed, greeted TCP connection that
// queues encoded messages for the I/O thread to write in batches, decodes what arrives into
// recycled storage, and can park its read loop while its receiver is full. A connect
// endpoint's pipe is a slot that outlives its TCP connections (its queue fills while it is
// disconnected, as libzmq's does); an accepted one lives as long as its connection.
//
// Threads: the fields marked "I/O thread" belong to the raw I/O thread; those marked "locked"
// are guarded by the owning pipe_set's mutex.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <asio/ip/tcp.hpp>

#include "connection_limits.hpp"
#include "tls_context.hpp"
#include "wire.hpp"
#include "zpat/core/connection_info.hpp"
#include "zpat/core/message.hpp"
#include "zpat/core/options.hpp"

namespace zpat::detail {

struct pipe : std::enable_shared_from_this<pipe> {
    using id_type = std::uint64_t;

    pipe(asio::io_context& io, id_type peer, int index, const options& limits)
        : socket(io),
          id(peer),
          dial_index(index),
          decoder(limits.max_message_size, limits.max_message_frames) {}

    bool accepted() const noexcept { return dial_index < 0; }

    // Locked: `mark` messages and `byte_mark` bytes (0: no limit) may wait to be written.
    bool has_room(std::size_t mark, std::size_t byte_mark) const noexcept {
        return pending_count < mark && (byte_mark == 0 || pending.size() < byte_mark);
    }
    // Locked: appends `msg`, encoded. Returns true when the queue was empty (no write pending).
    bool queue(const message& msg) {
        const bool was_empty = pending_count == 0;
        wire::encode(msg, pending);
        ++pending_count;
        return was_empty;
    }
    // Locked: appends `bytes` as they are (an unframed pipe's). Returns true when the queue was
    // empty.
    bool queue_bytes(std::string_view bytes) {
        const bool was_empty = pending_count == 0;
        pending.append(bytes);
        ++pending_count;
        return was_empty;
    }
    // Locked: drops what waits to be written. Returns how many messages that was.
    std::size_t discard_queued() noexcept {
        pending.clear();
        return std::exchange(pending_count, 0);
    }
    // Locked, with no write in flight: makes everything queued the buffer to write next. The
    // written buffer goes back as the next pending one, so both keep their capacity; once a
    // burst of large messages is over, both are freed rather than kept by an idle pipe.
    // Returns false when nothing was queued.
    bool take_queued() {
        constexpr std::size_t max_idle_buffers = std::size_t{1} << 20;
        if (pending_count > 0) {
            out_bytes.clear();
            std::swap(pending, out_bytes);
            writing_count = std::exchange(pending_count, 0);
            return true;
        }
        if (pending.capacity() + out_bytes.capacity() > max_idle_buffers) {
            std::string().swap(pending);
            std::string().swap(out_bytes);
        }
        return false;
    }

    // I/O thread: the first `kept` messages of `stock`, as one batch for the receiver; the
    // storage after them stays as the stock. Whichever part is smaller is the one moved.
    std::vector<message> take_decoded(std::size_t kept) {
        const auto at = [&](std::size_t i) {
            return stock.begin() + static_cast<std::ptrdiff_t>(i);
        };
        std::vector<message> batch;
        const std::size_t unused = stock.size() - kept;
        if (unused <= kept) {
            spare.assign(std::make_move_iterator(at(kept)), std::make_move_iterator(stock.end()));
            stock.resize(kept);
            batch = std::move(stock);
            stock.clear();  // moved from: valid, but unspecified
            std::swap(stock, spare);
        } else {
            std::swap_ranges(at(0), at(kept), at(unused));  // the messages go last
            spare.assign(std::make_move_iterator(at(unused)), std::make_move_iterator(stock.end()));
            stock.resize(unused);
            batch = std::move(spare);
            spare.clear();
        }
        return batch;
    }

    asio::ip::tcp::socket socket;
    // I/O thread, raw+tls: this connection's TLS, made anew for each connection, which takes
    // the connected `socket` over (leaving it closed, for the next dial or accept). Handlers
    // keep the stream they run on alive, so a dropped connection's may still finish.
    std::shared_ptr<tls_stream> tls;
    std::vector<char> tls_in;  // what TLS decrypted, for the next read to hand over
    const id_type id;
    const int dial_index;  // the connect endpoint's index; -1 when accepted

    // Locked: connected and greeted, so that options::immediate may queue to it.
    bool live = false;

    // I/O thread.
    unsigned epoch = 0;  // which TCP connection of this pipe the pending handlers belong to
    bool ready = false;  // connected and greeting checked
    bool writing = false;
    bool closed = true;
    bool read_stopped = false;  // its read loop is parked: its receiver is full
    std::size_t writing_count = 0;
    std::string greeting_in;       // the bytes of an unfinished greeting
    wire::stream_decoder decoder;  // this connection's messages, as their bytes arrive
    message partial;               // the message being decoded; whole ones go to `stock`
    std::string out_bytes;
    std::size_t out_written = 0;  // bytes of out_bytes written so far
    std::string remote;           // "address:port", for the log
    connection_clock clock;
    // Message storage to decode into, recycled from what the user received: a read's messages
    // are decoded into its front and handed over as one batch.
    std::vector<message> stock;
    std::vector<message> spare;  // storage take_decoded() set aside

    // Locked.
    // Messages queued, already encoded: sending costs one append, no allocation once the
    // buffer has grown, and the I/O thread writes the whole buffer at once.
    std::string pending;
    std::size_t pending_count = 0;
    // Ready, with no write in flight and nothing queued: a request or reply may be written
    // straight from the user's thread (pipe_set::enqueue). Cleared before the socket closes.
    bool idle = false;
    bool stale = false;    // a requester's reset() dropped it: what it still delivers is discarded
    bool closing = false;  // to be closed once its queue is written, and not redialled
    std::size_t subscriptions = 0;  // a publisher's: what this subscriber holds now
    // This connection as open_connections() shows it, from its greeting on: the peer's
    // "address:port", the endpoint it came through, since when, and what it carried.
    std::string peer_address;
    std::string via;
    std::chrono::system_clock::time_point since{};
    struct {
        std::uint64_t messages_in = 0, bytes_in = 0, messages_out = 0, bytes_out = 0;
    } carried;
};
using pipe_ptr = std::shared_ptr<pipe>;

}  // namespace zpat::detail
