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
#include "write_queue.hpp"
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
    // I/O thread: bytes of a message that has begun to arrive and is not whole yet.
    std::size_t partial_bytes() const noexcept { return decoder.partial_bytes() + pending_bytes; }
    bool mid_message() const noexcept { return decoder.mid_message() || pending_bytes != 0; }

    // Locked: `mark` messages and `byte_mark` bytes (0: no limit) may wait to be written.
    bool has_room(std::size_t mark, std::size_t byte_mark) const noexcept {
        return queued.messages() + gathered_messages < mark &&
               (byte_mark == 0 || queued.bytes() + gathered_bytes < byte_mark);
    }
    // Locked: appends `msg`, encoded. Returns true when the queue was empty (no write pending).
    bool queue(const message& msg) {
        const bool was_empty = queued.messages() == 0;
        queued.push(msg);
        return was_empty;
    }
    // Locked: appends `bytes` as they are (an unframed pipe's). Returns true when the queue was
    // empty.
    bool queue_bytes(std::string_view bytes) {
        const bool was_empty = queued.messages() == 0;
        queued.push_bytes(bytes);
        return was_empty;
    }
    // Locked: drops what waits to be written. Returns how many messages that was.
    std::size_t discard_queued() noexcept { return queued.clear(); }
    // Locked, with no write in flight: the written batch's storage goes back to the queue, and
    // the next segments queued become the batch to write. Returns false when nothing was
    // queued.
    bool take_queued() { return queued.take(out); }

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
    bool read_stopped = false;      // its read loop is parked: its receiver is full
    bool large_reads = false;       // its last read carried large messages (or any, encoded)
    std::string greeting_in;        // the bytes of an unfinished greeting
    wire::stream_decoder decoder;   // this connection's messages, as their bytes arrive
    message partial;                // the message being decoded; whole ones go to `stock`
    std::string pending;            // encoded batches: the storage the next read lands in,
    std::size_t pending_bytes = 0;  // after this many bytes of an unfinished message
    write_batch out;                // what is being written: out.messages are sent once it is
    std::string remote;             // "address:port", for the log
    connection_clock clock;
    // Message storage to decode into, recycled from what the user received: a read's messages
    // are decoded into its front and handed over as one batch.
    std::vector<message> stock;
    std::vector<message> spare;  // storage take_decoded() set aside

    // Locked.
    // Messages queued, already encoded: sending costs an append, no allocation once the
    // segments have grown, and the I/O thread writes them a batch at a time.
    write_queue queued;
    // Ready, with no write in flight and nothing queued: a request or reply may be written
    // straight from the user's thread (pipe_set::enqueue). Cleared before the socket closes.
    bool idle = false;
    bool stale = false;    // a requester's reset() dropped it: what it still delivers is discarded
    bool closing = false;  // to be closed once its queue is written, and not redialled
    std::size_t subscriptions = 0;  // a publisher's: what this subscriber holds now
    // Messages for an idle pipe gathered during one pass-through batch, to be written from the
    // relay's thread at its end (distributor::send_encoded): runs of whole encoded messages in
    // the batch, adjacent ones joined. Empty outside it.
    std::vector<std::string_view> gathered;
    std::size_t gathered_messages = 0;
    std::size_t gathered_bytes = 0;
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
