// Stream on raw+tcp://: plain TCP connections with no greeting and no framing, on the raw
// backend's pipes and I/O thread. Bytes go out as the user sent them (queued per connection,
// written in batches); what each read brings comes back as one `data` event. A connection
// whose events reach the receive high-water mark is not read until the user takes some, so a
// peer that sends faster than the application reads is slowed by TCP itself. Each TCP
// connection has an id of its own: a connect endpoint's pipe that redials gets a new one.

#include <condition_variable>
#include <map>
#include <mutex>
#include <unordered_map>

#include "fair_queue.hpp"
#include "raw_cells.hpp"
#include "zpat/core/error.hpp"
#include "zpat/core/wake_signal.hpp"

namespace zpat::detail {
namespace {

using event = stream_event;
using connection_id = stream_connection_id;

class raw_stream final : public stream_impl, private pipe_events {
  public:
    raw_stream(const std::vector<endpoint>& endpoints, const options& opts)
        : opts_(opts),
          mark_(opts.receive_high_water_mark <= 0
                    ? SIZE_MAX
                    : static_cast<std::size_t>(opts.receive_high_water_mark)),
          pipes_(pipe_set::open_unframed("stream", endpoints, opts)) {
        pipes_->start(*this);
    }
    ~raw_stream() override { pipes_->close(); }
    raw_stream(const raw_stream&) = delete;
    raw_stream& operator=(const raw_stream&) = delete;

    std::optional<event> receive(milliseconds timeout) override {
        std::unique_lock lock(pipes_->mutex());
        const auto ready = [&] { return !events_.empty(); };
        if (timeout == forever) {
            arrived_cv_.wait(lock, ready);
        } else if (!arrived_cv_.wait_for(lock, timeout, ready)) {
            return std::nullopt;
        }
        auto [id, next] = events_.pop();
        if (next.what == event::type::closed) {
            events_.forget(id);
        }
        if (events_.empty()) {
            readable_.clear();
        }
        if (events_.size_of(id) < mark_) {
            pipes_->room_made();
        }
        return std::move(next);
    }

    bool send(connection_id connection, std::string_view bytes) override {
        if (bytes.size() > opts_.max_message_size) {
            throw message_size_error("stream send of " + std::to_string(bytes.size()) +
                                     " bytes exceeds max_message_size of " +
                                     std::to_string(opts_.max_message_size) + " bytes");
        }
        std::unique_lock lock(pipes_->mutex());
        std::optional<pipe_set::clock_type::time_point> deadline;
        for (;;) {
            const auto found = open_.find(connection);
            if (found == open_.end() || found->second->closing) {
                return false;
            }
            if (pipes_->has_room(*found->second)) {
                if (!bytes.empty()) {
                    pipes_->enqueue_bytes(*found->second, bytes);
                }
                return true;
            }
            if (!pipes_->wait_for_room(lock, deadline)) {
                return false;
            }
        }
    }

    void close(connection_id connection) override {
        std::lock_guard lock(pipes_->mutex());
        if (const auto found = open_.find(connection);
            found != open_.end() && !found->second->closing) {
            pipes_->close_when_written(*found->second);
        }
    }

    poll_handle handle() const override { return poll_handle::descriptor(readable_.fd()); }
    const std::vector<std::string>& endpoints() const override { return pipes_->endpoints(); }

  private:
    // ---- pipe_events: the I/O thread, with the mutex held ----
    void greeted(pipe& p) override {
        const connection_id id = next_id_++;
        open_.emplace(id, &p);
        ids_[&p] = id;
        push(event{event::type::opened, id, {}});
    }
    drop_reason arrived(pipe& p, std::size_t count) override {
        (void)count;  // an unframed pipe delivers one read at a time
        push(event{event::type::data, ids_.at(&p), std::move(p.stock[0].at(0))});
        return nullptr;
    }
    bool full(const pipe& p) override { return events_.size_of(ids_.at(&p)) >= mark_; }
    // A connection the user closed reports nothing; what was queued for an ended one goes.
    void ended(pipe& p) override {
        const auto found = ids_.find(&p);
        if (found == ids_.end()) {
            return;
        }
        const connection_id id = found->second;
        ids_.erase(found);
        open_.erase(id);
        pipes_->discard_queued(p);
        if (!p.closing) {
            push(event{event::type::closed, id, {}});
        }
    }

    void push(event next) {
        const bool was_empty = events_.empty();
        const connection_id id = next.connection;
        events_.push(id, std::move(next));
        if (was_empty) {
            readable_.raise();
            arrived_cv_.notify_all();
        }
    }

    options opts_;
    const std::size_t mark_;  // options::receive_high_water_mark
    std::shared_ptr<pipe_set> pipes_;
    wake_signal readable_;  // while events wait

    // Guarded by the pipe_set's mutex.
    std::condition_variable arrived_cv_;
    fair_queue<connection_id, event> events_;
    std::map<connection_id, pipe*> open_;  // a pipe leaves under the lock that ends it
    std::unordered_map<const pipe*, connection_id> ids_;
    connection_id next_id_ = 1;
};

}  // namespace

std::unique_ptr<stream_impl> make_raw_stream(const std::vector<endpoint>& endpoints,
                                             const options& opts) {
    return std::make_unique<raw_stream>(endpoints, opts);
}

}  // namespace zpat::detail
