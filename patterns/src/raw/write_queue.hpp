#pragma once
// write_queue: one pipe's messages waiting to be written, encoded, in segments of at most
// 64 KiB. The I/O thread takes a few segments at a time (a write_batch) and gives them back once
// written, so a busy pipe writes from storage it has used before instead of growing one buffer
// per burst and faulting fresh pages into it: with one growing buffer, 64 KiB messages went at
// half libzmq's rate. A message may span segments; each segment knows where its first message
// starts and how many end in it, so the writer counts whole messages, and a connection lost
// in the middle of a message leaves no torn tail for the next one.
//
// Not thread-safe: the queue is guarded by the owning pipe_set's lock; a taken batch belongs
// to the I/O thread alone.

#include <algorithm>
#include <cstddef>
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wire.hpp"
#include "zpat/core/message.hpp"

namespace zpat::detail {

inline constexpr std::size_t no_start = static_cast<std::size_t>(-1);

struct write_segment {
    std::string bytes;
    std::size_t ends = 0;                // messages whose last byte is in it
    std::size_t first_start = no_start;  // where the first message beginning in it begins
};

// Segments being written, in order, and how far the writing has come.
struct write_batch {
    std::vector<write_segment> segments;
    std::size_t messages = 0;  // that end in it: written once it is
    std::size_t bytes = 0;     // of messages (a greeting's are not counted)
    std::size_t index = 0;     // the segment being written
    std::size_t offset = 0;    // its bytes written so far

    bool done() const noexcept { return index == segments.size(); }
    // Up to `limit` bytes from where writing stands, as pieces for one gather write. Returns
    // how many of `pieces` it filled.
    std::size_t next(std::span<std::string_view> pieces, std::size_t limit) const noexcept {
        std::size_t filled = 0;
        std::size_t at = offset;
        for (std::size_t i = index; i < segments.size() && filled < pieces.size() && limit > 0;
             ++i) {
            const std::string& s = segments[i].bytes;
            const std::size_t take = std::min(s.size() - at, limit);
            if (take > 0) {
                pieces[filled++] = std::string_view(s).substr(at, take);
                limit -= take;
            }
            at = 0;
        }
        return filled;
    }
    // `n` more bytes were written.
    void advance(std::size_t n) noexcept {
        while (n > 0 && index < segments.size()) {
            const std::size_t left = segments[index].bytes.size() - offset;
            if (n < left) {
                offset += n;
                return;
            }
            n -= left;
            offset = 0;
            ++index;
        }
        while (index < segments.size() && offset == 0 && segments[index].bytes.empty()) {
            ++index;  // empty segments
        }
    }
    // Bytes as they are (a greeting), counted as no message.
    void start_with(std::string bytes_to_write) {
        segments.clear();
        segments.push_back({std::move(bytes_to_write), 0, 0});
        messages = bytes = index = offset = 0;
        advance(0);
    }
};

class write_queue {
  public:
    static constexpr std::size_t segment_bytes = std::size_t{64} * 1024;
    // A batch is at most this many segments, and as many written ones are kept for reuse: an
    // idle pipe holds at most 512 KiB of them.
    static constexpr std::size_t batch_segments = 8;
    static constexpr std::size_t max_spares = 8;

    // Appends `msg`, encoded, as one message.
    void push(const message& msg) {
        std::size_t size = 4;
        for (const std::string& frame : msg) {
            size += 4 + frame.size();
        }
        if (!queued_.empty() && queued_.back().bytes.size() + size <= segment_bytes) {
            write_segment& s = queued_.back();  // the common case: it fits where the last went
            if (s.first_start == no_start) {
                s.first_start = s.bytes.size();
            }
            wire::encode(msg, s.bytes);
            bytes_ += size;
            end_message();
            return;
        }
        begin_message();
        append_u32(msg.size());
        for (const std::string& frame : msg) {
            append_u32(frame.size());
            append(frame);
        }
        end_message();
    }
    // Appends `bytes` as they are, as one message (an unframed pipe's). With `tail`, they are
    // the rest of a message whose beginning was written already: if that connection is lost
    // before they are written, they are dropped rather than sent to the next one.
    void push_bytes(std::string_view bytes, bool tail = false) {
        if (!tail) {
            begin_message();
        }
        append(bytes);
        end_message();
    }

    std::size_t messages() const noexcept { return messages_; }
    std::size_t bytes() const noexcept { return bytes_; }

    // Moves at most batch_segments segments from the front into `batch`, whose storage comes
    // back first. Returns false when nothing was queued.
    bool take(write_batch& batch) {
        recycle(batch);
        if (queued_.empty()) {
            return false;
        }
        const std::size_t n = std::min(queued_.size(), batch_segments);
        for (std::size_t i = 0; i < n; ++i) {
            write_segment& s = queued_.front();
            batch.messages += s.ends;
            batch.bytes += s.bytes.size();
            batch.segments.push_back(std::move(s));
            queued_.pop_front();
        }
        messages_ -= batch.messages;
        bytes_ -= batch.bytes;
        batch.advance(0);
        return true;
    }

    // The connection was lost with a batch unwritten: what is queued of messages that began in
    // it goes too, so the next connection starts at a message's start. Returns how many
    // messages that was.
    std::size_t drop_torn() {
        std::size_t lost = 0;
        while (!queued_.empty() && queued_.front().first_start != 0) {
            write_segment& s = queued_.front();
            if (s.first_start == no_start) {
                lost += s.ends;
                messages_ -= s.ends;
                bytes_ -= s.bytes.size();
                give_back(std::move(s.bytes));
                queued_.pop_front();
            } else {
                s.bytes.erase(0, s.first_start);  // the torn message ends where the next starts
                bytes_ -= s.first_start;
                --s.ends;
                --messages_;
                ++lost;
                s.first_start = 0;
            }
        }
        return lost;
    }

    // Drops everything queued. Returns how many messages that was.
    std::size_t clear() noexcept {
        queued_.clear();
        bytes_ = 0;
        return std::exchange(messages_, 0);
    }

    // The storage of a written (or abandoned) batch, kept for reuse up to max_spares segments.
    void recycle(write_batch& batch) {
        for (write_segment& s : batch.segments) {
            give_back(std::move(s.bytes));
        }
        batch.segments.clear();
        batch.messages = batch.bytes = batch.index = batch.offset = 0;
    }

    std::size_t spare_bytes() const noexcept {
        std::size_t held = 0;
        for (const std::string& s : spares_) {
            held += s.capacity();
        }
        return held;
    }

  private:
    void give_back(std::string&& storage) {
        if (spares_.size() < max_spares && storage.capacity() <= 2 * segment_bytes) {
            storage.clear();
            spares_.push_back(std::move(storage));
        }
    }
    write_segment& open_segment() {
        if (queued_.empty() || queued_.back().bytes.size() >= segment_bytes) {
            queued_.emplace_back();
            if (!spares_.empty()) {
                queued_.back().bytes = std::move(spares_.back());
                spares_.pop_back();
            }
        }
        return queued_.back();
    }
    void begin_message() {
        write_segment& s = open_segment();
        if (s.first_start == no_start) {
            s.first_start = s.bytes.size();
        }
    }
    void end_message() {
        ++queued_.back().ends;
        ++messages_;
    }
    void append(std::string_view bytes) {
        do {
            write_segment& s = open_segment();
            const std::size_t take = std::min(segment_bytes - s.bytes.size(), bytes.size());
            s.bytes.append(bytes.data(), take);
            bytes_ += take;
            bytes.remove_prefix(take);
        } while (!bytes.empty());
    }
    void append_u32(std::size_t value) {
        const auto be = wire::u32_bytes(value);
        append({be.data(), be.size()});
    }

    std::deque<write_segment> queued_;
    std::vector<std::string> spares_;
    std::size_t messages_ = 0;
    std::size_t bytes_ = 0;
};

}  // namespace zpat::detail
