#pragma once
// inbox: what a raw socket's pipes delivered, waiting for the user's receive(). A fair queue
// (one message per pipe in turn), the storage recycler, the readable descriptor a poller waits
// on, and interrupt(). Pipes hand over whole read batches under the pipe_set's mutex; a
// single-threaded receiver (puller, subscriber) takes them in batches too, one lock a batch;
// a replier's pool of threads takes one message at a time. An xsubscriber's pipes hand over
// encoded batches (encoded_batch.hpp) instead: receive() decodes one message at a time from
// them, and a raw relay takes their bytes as they are (next_encoded(), took_encoded()).

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "encoded_batch.hpp"
#include "fair_queue.hpp"
#include "pipe.hpp"
#include "pipe_set.hpp"
#include "recycler.hpp"
#include "zpat/core/message.hpp"
#include "zpat/core/options.hpp"
#include "zpat/core/wake_signal.hpp"

namespace zpat::detail {

class inbox {
  public:
    enum class taking { batches, one_at_a_time, encoded_batches };
    inbox(pipe_set& pipes, taking how);

    // ---- the I/O thread, with the mutex held (pipe_events) ----
    // Queues the first `kept` of the `decoded` messages in p.stock and restocks p.
    void accept(pipe& p, std::size_t kept, std::size_t decoded);
    // Queues `msg` as though `p` had sent it: what an xpublisher says for a subscriber that went.
    void accept_one(const pipe& p, message msg);
    // p's messages wait at the receive high-water mark, or all the messages waiting hold
    // options::receive_high_water_bytes.
    bool full(const pipe& p) const {
        return queued_bytes_ >= byte_mark_ ||
               (encoded_ ? waiting_from(p.id) : queue_.size_of(p.id)) >= mark_;
    }
    // An accepted pipe went: what it sent and was not received goes with it.
    void ended(const pipe& p) {
        if (p.accepted()) {
            queue_.forget(p.id);
        }
    }

    // ---- any thread ----
    // The next message and the pipe it came from. Returns false on timeout or after
    // interrupt().
    bool receive(message& into, milliseconds timeout, pipe::id_type* from = nullptr);
    // Makes current and future receive() calls return false until clear_interrupt().
    void interrupt();
    void clear_interrupt();
    // Readable while messages wait: what zpat::poller waits on. Kept up from the first call on
    // (until then, receive() alone wakes on arrivals).
    int readable_fd() const;

    // ---- the receiving thread, with the mutex held ----
    // Drops every message waiting, handed out or not (a requester's reset).
    void clear();
    // interrupt() and clear_interrupt(), with the mutex held (any thread).
    void interrupt_held() {
        interrupted_ = true;
        arrived_cv_.notify_all();
    }
    void clear_interrupt_held() { interrupted_ = false; }
    // ---- the receiving thread (encoded batches), as receive() ----
    // The bytes of the whole messages waiting next, as the wire encoded them, without waiting:
    // the rest of one read's batch, or empty when nothing waits (or after interrupt()). They
    // stay valid, and waiting, until took_encoded() or the next call.
    std::string_view next_encoded();
    // The first `bytes` (whole messages) of what next_encoded() gave have been taken.
    void took_encoded(std::size_t bytes);

    // ---- the receiving thread, with the mutex held ----
    // Drops the messages waiting, handed out or not, whose first frame `unwanted(topic)` names.
    template <class Predicate>
    void remove_topics_if(Predicate unwanted) {
        if (encoded_) {
            remove_encoded_if(unwanted);
        } else {
            remove_if([&](const message& msg) { return unwanted(std::string_view(msg[0])); });
        }
    }
    // Drops the messages waiting, handed out or not, for which `unwanted(msg)` holds.
    template <class Predicate>
    void remove_if(Predicate unwanted) {
        queue_.remove_if([&](const message& msg) {
            const bool drop = unwanted(msg);
            queued_bytes_ -= drop ? msg.byte_size() : 0;
            return drop;
        });
        std::size_t kept = next_taken_;
        for (std::size_t i = next_taken_; i < taken_.size(); ++i) {
            if (!unwanted(taken_[i])) {
                std::swap(taken_[kept], taken_[i]);
                taken_from_[kept++] = taken_from_[i];
            } else {
                queued_bytes_ -= taken_[i].byte_size();
            }
        }
        taken_.resize(kept);  // the storage dropped is the messages held back
        taken_from_.resize(kept);
    }

  private:
    template <class Predicate>
    void remove_encoded_if(Predicate unwanted) {
        queue_.for_each([&](pipe::id_type from, message& batch) {
            const auto gone = encoded_batch::compact(batch, 0, unwanted);
            queued_bytes_ -= gone.bytes;
            forget_waiting(from, gone.messages);
        });
        queue_.remove_if([](const message& batch) { return encoded_batch::bytes(batch).empty(); });
        for (std::size_t i = next_taken_; i < taken_.size(); ++i) {
            const std::size_t from = i == next_taken_ ? batch_at_ : 0;
            queued_bytes_ -= encoded_batch::compact(taken_[i], from, unwanted).bytes;
        }
        // Batches left with nothing to hand out go, but the one being handed out stays first
        // (finished by the next hand-out) so the storage given back stays in order.
        std::size_t kept = next_taken_;
        for (std::size_t i = next_taken_; i < taken_.size(); ++i) {
            if (i == next_taken_ || !encoded_batch::bytes(taken_[i]).empty()) {
                std::swap(taken_[kept], taken_[i]);
                taken_from_[kept++] = taken_from_[i];
            }
        }
        taken_.resize(kept);
        taken_from_.resize(kept);
        if (next_taken_ < taken_.size() &&
            batch_at_ == encoded_batch::bytes(taken_[next_taken_]).size()) {
            finish_batch();
        }
    }
    std::size_t waiting_from(pipe::id_type id) const {
        const auto found = waiting_.find(id);
        return found == waiting_.end() ? 0 : found->second;
    }
    void forget_waiting(pipe::id_type id, std::size_t messages);
    void advance(std::size_t bytes);
    void finish_batch();
    void hand_out_encoded(message& into, pipe::id_type* from);
    void announce(bool was_empty);
    void take_batch();
    void settle();
    void hand_out(message& into, pipe::id_type* from);
    bool receive_one(message& into, pipe::id_type* from);

    static constexpr std::size_t batch_limit = 256;
    static constexpr std::size_t max_kept_batch = std::size_t{512} * 1024;
    pipe_set& pipes_;
    const bool batched_;
    const bool encoded_;
    const std::size_t mark_;       // options::receive_high_water_mark
    const std::size_t byte_mark_;  // options::receive_high_water_bytes

    // Guarded by the pipe_set's mutex.
    fair_queue<pipe::id_type, message> queue_;
    // Of the messages not yet handed out: in queue_, and in taken_ past next_taken_. The
    // receiving thread counts what it hands out without the lock (handed_bytes_) and settles
    // the count under it, before it takes the next batch or waits.
    std::size_t queued_bytes_ = 0;
    recycler recycler_;
    mutable wake_signal readable_;
    mutable bool fd_wanted_ = false;  // a poller waits on readable_fd(): keep it up
    std::condition_variable arrived_cv_;
    std::atomic<bool> interrupted_ = false;  // written under the mutex

    // The receiving thread's batch, handed out up to next_taken_, without a lock.
    std::vector<message> taken_;
    std::vector<pipe::id_type> taken_from_;
    std::size_t next_taken_ = 0;
    std::size_t taken_bytes_ = 0;       // of the storage the caller gave back for those handed out
    std::size_t handed_bytes_ = 0;      // handed out since queued_bytes_ was last settled
    mutable bool poller_seen_ = false;  // the receiving thread's copy of fd_wanted_

    // Encoded batches. Guarded by the mutex: the messages of each pipe's batches still in
    // queue_ (what the receive high-water mark counts). The receiving thread's: how far into
    // taken_[next_taken_] it has handed out, and the decoder that hands out one message.
    std::unordered_map<pipe::id_type, std::size_t> waiting_;
    std::size_t batch_at_ = 0;
    wire::decoder whole_{SIZE_MAX};
};

}  // namespace zpat::detail
