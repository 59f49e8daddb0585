#include "inbox.hpp"

#include <algorithm>
#include <utility>

namespace zpat::detail {

inbox::inbox(pipe_set& pipes, taking how)
    : pipes_(pipes),
      batched_(how != taking::one_at_a_time),
      encoded_(how == taking::encoded_batches),
      mark_(pipes.opts().receive_high_water_mark <= 0
                ? SIZE_MAX
                : static_cast<std::size_t>(pipes.opts().receive_high_water_mark)),
      byte_mark_(pipes.opts().receive_high_water_bytes == 0
                     ? SIZE_MAX
                     : pipes.opts().receive_high_water_bytes) {}

namespace {

std::size_t bytes_of(const std::vector<message>& batch, std::size_t count) {
    std::size_t bytes = 0;
    for (std::size_t i = 0; i < count; ++i) {
        bytes += batch[i].byte_size();
    }
    return bytes;
}

}  // namespace

void inbox::accept(pipe& p, std::size_t kept, std::size_t decoded) {
    const bool was_empty = queue_.empty();
    if (kept > 0 && encoded_) {
        queued_bytes_ += encoded_batch::bytes(p.stock[0]).size();
        waiting_[p.id] += encoded_batch::count(p.stock[0]);
        queue_.push(p.id, p.take_decoded(kept));
    } else if (kept > 0) {
        queued_bytes_ += bytes_of(p.stock, kept);
        queue_.push(p.id, p.take_decoded(kept));
    }
    // Take back as much storage as this read used, so the next one need not allocate.
    recycler_.restock(p.stock, std::max<std::size_t>(encoded_ ? 1 : 64, decoded));
    announce(was_empty);
}

void inbox::forget_waiting(pipe::id_type id, std::size_t messages) {
    const auto found = waiting_.find(id);
    if (found != waiting_.end() && (found->second -= messages) == 0) {
        waiting_.erase(found);
    }
}

void inbox::accept_one(const pipe& p, message msg) {
    const bool was_empty = queue_.empty();
    queued_bytes_ += msg.byte_size();
    queue_.push(p.id, std::move(msg));
    announce(was_empty);
}

// Wakes receivers and raises the descriptor when the queue has just stopped being empty.
void inbox::announce(bool was_empty) {
    if (was_empty && !queue_.empty()) {
        if (fd_wanted_) {
            readable_.raise();
        }
        arrived_cv_.notify_all();  // a batch may hold work for every waiting receiver
    }
}

bool inbox::receive(message& into, milliseconds timeout, pipe::id_type* from) {
    if (batched_ && next_taken_ < taken_.size()) {
        if (interrupted_.load(std::memory_order_relaxed)) {
            return false;
        }
        hand_out(into, from);
        if (next_taken_ == taken_.size() && poller_seen_) {
            // A poller waits on the descriptor: it must fall only when nothing at all waits.
            std::lock_guard lock(pipes_.mutex());
            take_batch();
        }
        return true;
    }
    std::unique_lock lock(pipes_.mutex());
    settle();  // before any wait: a pipe parked at the byte budget must see what was taken
    const auto ready = [&] { return interrupted_ || !queue_.empty(); };
    if (ready()) {
        // Nothing to wait for: skip the clock read a timed wait would make.
    } else if (timeout == forever) {
        arrived_cv_.wait(lock, ready);
    } else if (!arrived_cv_.wait_for(lock, timeout, ready)) {
        return false;
    }
    if (interrupted_) {
        return false;
    }
    if (!batched_) {
        return receive_one(into, from);
    }
    take_batch();
    hand_out(into, from);
    if (next_taken_ == taken_.size() && queue_.empty()) {
        readable_.clear();
    }
    return true;
}

// With the mutex held.
bool inbox::receive_one(message& into, pipe::id_type* from) {
    auto [peer, msg] = queue_.pop();
    queued_bytes_ -= msg.byte_size();
    // The caller's old storage goes back to the decoders: no allocation in steady state.
    std::swap(into, msg);
    recycler_.give_back(std::move(msg));
    if (from != nullptr) {
        *from = peer;
    }
    if (queue_.empty()) {
        readable_.clear();
    }
    if (queue_.size_of(peer) < mark_ && queued_bytes_ < byte_mark_) {
        pipes_.room_made();
    }
    return true;
}

// With the mutex held: gives the storage of the batch handed out back to the decoders and
// takes the next batch from the queue.
void inbox::take_batch() {
    settle();
    recycler_.give_back(std::move(taken_), std::exchange(taken_bytes_, 0));
    taken_.clear();
    taken_from_.clear();
    next_taken_ = 0;
    batch_at_ = 0;
    queue_.take(taken_, taken_from_, batch_limit);
    if (encoded_) {
        for (std::size_t i = 0; i < taken_.size(); ++i) {
            forget_waiting(taken_from_[i], encoded_batch::count(taken_[i]));
        }
    }
    if (taken_.empty() && queue_.empty()) {
        readable_.clear();
    }
    pipes_.room_made();
}

// With the mutex held: takes what was handed out off the byte count, and lets parked pipes
// look again.
void inbox::settle() {
    if (handed_bytes_ > 0) {
        queued_bytes_ -= std::exchange(handed_bytes_, 0);
        pipes_.room_made();
    }
}

// The next message of the batch, without a lock.
void inbox::hand_out(message& into, pipe::id_type* from) {
    if (encoded_) {
        hand_out_encoded(into, from);
        return;
    }
    const std::size_t next = next_taken_++;
    // The caller's old storage stays in the batch, back to the decoders with the next one.
    std::swap(into, taken_[next]);
    handed_bytes_ += into.byte_size();
    taken_bytes_ += recycler::keep_small(taken_[next]);
    if (from != nullptr) {
        *from = taken_from_[next];
    }
}

// The next message of the encoded batch being handed out, decoded into the caller's storage.
void inbox::hand_out_encoded(message& into, pipe::id_type* from) {
    const std::string_view rest = encoded_batch::bytes(taken_[next_taken_]).substr(batch_at_);
    if (from != nullptr) {
        *from = taken_from_[next_taken_];
    }
    std::size_t used = 0;
    whole_.next(rest, into, used);  // checked as it arrived: it is whole
    advance(used);
}

// `bytes` more of the batch being handed out have gone to the receiver.
void inbox::advance(std::size_t bytes) {
    batch_at_ += bytes;
    handed_bytes_ += bytes;
    if (batch_at_ == encoded_batch::bytes(taken_[next_taken_]).size()) {
        finish_batch();
    }
}

// The batch being handed out is done with: its storage goes back with the others.
void inbox::finish_batch() {
    // A read's batch is kept for the next read to fill (no fresh pages faulted in for each),
    // unless an unusually large message made it large.
    message& batch = taken_[next_taken_];
    if (batch[0].capacity() > max_kept_batch) {
        batch = message{};
    } else {
        taken_bytes_ += batch[0].capacity();
    }
    ++next_taken_;
    batch_at_ = 0;
}

std::string_view inbox::next_encoded() {
    if (interrupted_.load(std::memory_order_relaxed)) {
        return {};
    }
    if (next_taken_ == taken_.size()) {
        std::lock_guard lock(pipes_.mutex());
        take_batch();
        if (next_taken_ == taken_.size()) {
            return {};
        }
    }
    return encoded_batch::bytes(taken_[next_taken_]).substr(batch_at_);
}

void inbox::took_encoded(std::size_t bytes) {
    if (bytes == 0) {
        return;
    }
    advance(bytes);
    if (next_taken_ == taken_.size() && poller_seen_) {
        // A poller waits on the descriptor: it must fall only when nothing at all waits.
        std::lock_guard lock(pipes_.mutex());
        take_batch();
    }
}

void inbox::interrupt() {
    std::lock_guard lock(pipes_.mutex());
    interrupt_held();
}

void inbox::clear_interrupt() {
    std::lock_guard lock(pipes_.mutex());
    clear_interrupt_held();
}

void inbox::clear() {
    queue_.clear();
    queued_bytes_ = 0;
    handed_bytes_ = 0;
    next_taken_ = taken_.size();
    batch_at_ = 0;
    waiting_.clear();
    readable_.clear();
}

int inbox::readable_fd() const {
    std::lock_guard lock(pipes_.mutex());
    poller_seen_ = true;
    if (!fd_wanted_) {
        fd_wanted_ = true;
        if (!queue_.empty() || next_taken_ < taken_.size()) {
            readable_.raise();
        }
    }
    return readable_.fd();
}

}  // namespace zpat::detail
