// Stream on raw+tcp://: plain TCP connections on an Asio I/O thread of the stream's own, with
// no greeting and no framing. Bytes go out as the user sent them (queued per connection,
// written in batches); what each read brings comes back as one `data` event. A connection
// whose events reach the receive high-water mark is not read until the user takes some, so a
// peer that sends faster than the application reads is slowed by TCP itself.

#include <unistd.h>

#include <asio.hpp>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "fair_queue.hpp"
#include "raw_cells.hpp"
#include "tcp_common.hpp"
#include "wake_signal.hpp"
#include "zpat/core/error.hpp"

namespace zpat::detail {
namespace {

using asio::ip::tcp;
using event = stream::event;
using connection_id = stream::connection_id;

constexpr std::size_t read_chunk = std::size_t{64} * 1024;

struct stream_connection {
    stream_connection(asio::io_context& io, connection_id connection, int index)
        : socket(io), id(connection), dial_index(index) {}

    tcp::socket socket;
    connection_id id;
    int dial_index;  // the connect endpoint it was dialled for; -1 when accepted
    // I/O thread only.
    std::vector<char> chunk = std::vector<char>(read_chunk);
    std::string out;
    bool writing = false;
    bool ended = false;
    // Guarded by the stream's mutex.
    std::string pending;
    std::size_t pending_sends = 0;
    std::size_t writing_sends = 0;
    bool closing = false;      // close() was called: end once everything is written
    bool read_parked = false;  // its events reached the high-water mark
};
using connection_ptr = std::shared_ptr<stream_connection>;

class raw_stream final : public stream_impl {
  public:
    raw_stream(const std::vector<endpoint>& endpoints, const options& opts)
        : endpoints_(endpoints), opts_(opts) {
        backoff_.resize(endpoints_.size());
        for (const endpoint& ep : endpoints_) {
            redial_timers_.push_back(std::make_unique<asio::steady_timer>(io_));
            if (ep.side == link::connect) {
                resolved_.push_back(ep.url());
            } else {
                auto [acceptor, url] = listen_on(io_, ep);
                resolved_.push_back(std::move(url));
                accept_next(*acceptors_.emplace_back(std::move(acceptor)));
            }
        }
        for (std::size_t i = 0; i < endpoints_.size(); ++i) {
            if (endpoints_[i].side == link::connect) {
                dial(static_cast<int>(i));
            }
        }
        thread_ = std::thread([this] { io_.run(); });
    }

    ~raw_stream() override {
        {
            std::unique_lock lock(mutex_);
            const auto written = [&] { return unsent_ == 0; };
            if (opts_.linger == forever) {
                room_cv_.wait(lock, written);
            } else {
                room_cv_.wait_for(lock, opts_.linger, written);
            }
        }
        io_.stop();
        thread_.join();
    }
    raw_stream(const raw_stream&) = delete;
    raw_stream& operator=(const raw_stream&) = delete;

    std::optional<event> receive(milliseconds timeout) override {
        std::unique_lock lock(mutex_);
        const auto ready = [&] { return !inbound_.empty(); };
        if (timeout == forever) {
            inbound_cv_.wait(lock, ready);
        } else if (!inbound_cv_.wait_for(lock, timeout, ready)) {
            return std::nullopt;
        }
        auto [id, next] = inbound_.pop();
        if (next.what == event::type::closed) {
            inbound_.forget(id);
        }
        if (inbound_.empty()) {
            readable_.clear();
        }
        if (auto found = connections_.find(id);
            found != connections_.end() && found->second->read_parked && !inbound_full(id)) {
            found->second->read_parked = false;
            asio::post(io_, [this, c = found->second] { read_more(c); });
        }
        return std::move(next);
    }

    bool send(connection_id connection, std::string_view bytes) override {
        if (bytes.size() > opts_.max_message_size) {
            throw message_size_error("stream send of " + std::to_string(bytes.size()) +
                                     " bytes exceeds max_message_size of " +
                                     std::to_string(opts_.max_message_size) + " bytes");
        }
        std::unique_lock lock(mutex_);
        const std::size_t mark = opts_.send_high_water_mark <= 0
                                     ? SIZE_MAX
                                     : static_cast<std::size_t>(opts_.send_high_water_mark);
        connection_ptr c;
        const auto has_room = [&] {
            auto found = connections_.find(connection);
            c = found == connections_.end() || found->second->closing ? nullptr : found->second;
            return c == nullptr || c->pending_sends + c->writing_sends < mark;
        };
        if (opts_.send_timeout == forever) {
            room_cv_.wait(lock, has_room);
        } else if (!room_cv_.wait_for(lock, opts_.send_timeout, has_room)) {
            return false;
        }
        if (c == nullptr) {
            return false;
        }
        if (bytes.empty()) {
            return true;
        }
        const bool was_empty = c->pending_sends == 0;
        c->pending.append(bytes);
        ++c->pending_sends;
        ++unsent_;
        if (was_empty) {
            asio::post(io_, [this, c] { write_pending(c); });
        }
        return true;
    }

    void close(connection_id connection) override {
        std::lock_guard lock(mutex_);
        auto found = connections_.find(connection);
        if (found == connections_.end() || found->second->closing) {
            return;
        }
        found->second->closing = true;
        asio::post(io_, [this, c = found->second] { write_pending(c); });
    }

    poll_handle handle() const override { return {nullptr, readable_.fd()}; }
    const std::vector<std::string>& endpoints() const override { return resolved_; }

  private:
    // ---- the I/O thread ------------------------------------------------------------------

    connection_ptr make_connection(int dial_index) {
        std::lock_guard lock(mutex_);
        return std::make_shared<stream_connection>(io_, next_id_++, dial_index);
    }

    void accept_next(tcp::acceptor& acceptor) {
        auto c = make_connection(-1);
        acceptor.async_accept(c->socket, [this, &acceptor, c](std::error_code ec) {
            if (ec == asio::error::operation_aborted) {
                return;
            }
            if (!ec) {
                opened(c);
            }
            accept_next(acceptor);
        });
    }

    void dial(int index) {
        auto [host, port] = host_and_port(endpoints_[static_cast<std::size_t>(index)]);
        auto resolver = std::make_shared<tcp::resolver>(io_);
        resolver->async_resolve(
            host, port,
            [this, index, resolver](std::error_code ec, const tcp::resolver::results_type& found) {
                if (ec) {
                    redial_later(index);
                    return;
                }
                auto c = make_connection(index);
                asio::async_connect(c->socket, found,
                                    [this, c, index](std::error_code failed, const tcp::endpoint&) {
                                        if (failed) {
                                            redial_later(index);
                                        } else {
                                            backoff_[static_cast<std::size_t>(index)].reset();
                                            opened(c);
                                        }
                                    });
            });
    }

    void redial_later(int index) {
        auto& timer = *redial_timers_[static_cast<std::size_t>(index)];
        timer.expires_after(backoff_[static_cast<std::size_t>(index)].next());
        timer.async_wait([this, index](std::error_code ec) {
            if (!ec) {
                dial(index);
            }
        });
    }

    void opened(const connection_ptr& c) {
        std::error_code ignored;
        c->socket.set_option(tcp::no_delay(true), ignored);
        {
            std::lock_guard lock(mutex_);
            connections_.emplace(c->id, c);
            push(event{event::type::opened, c->id, {}});
        }
        read_more(c);
    }

    void read_more(const connection_ptr& c) {
        c->socket.async_read_some(
            asio::buffer(c->chunk), [this, c](std::error_code ec, std::size_t n) {
                if (c->ended) {
                    return;
                }
                if (ec) {
                    end(c);
                    return;
                }
                std::lock_guard lock(mutex_);
                push(event{event::type::data, c->id, std::string(c->chunk.data(), n)});
                if (inbound_full(c->id)) {
                    c->read_parked = true;  // receive() restarts it
                } else {
                    read_more(c);
                }
            });
    }

    void write_pending(const connection_ptr& c) {
        if (c->writing || c->ended) {
            return;
        }
        {
            std::lock_guard lock(mutex_);
            if (c->pending_sends == 0) {
                if (!c->closing) {
                    return;
                }
            } else {
                // The written buffer goes back as the next pending one: both keep their capacity.
                c->out.clear();
                std::swap(c->pending, c->out);
                c->writing_sends = c->pending_sends;
                c->pending_sends = 0;
            }
        }
        if (c->writing_sends == 0) {
            end(c);  // closing, and everything is written
            return;
        }
        c->writing = true;
        asio::async_write(c->socket, asio::buffer(c->out),
                          [this, c](std::error_code ec, std::size_t) {
                              c->writing = false;
                              {
                                  std::lock_guard lock(mutex_);
                                  unsent_ -= c->writing_sends;
                                  c->writing_sends = 0;
                              }
                              room_cv_.notify_all();
                              if (ec) {
                                  end(c);
                              } else {
                                  write_pending(c);
                              }
                          });
    }

    // Ends `c`: closed by the peer, failed, or closed by the user once its bytes were written.
    // Only a connection the user did not close reports `closed`; a dialled one is redialled.
    void end(const connection_ptr& c) {
        if (c->ended) {
            return;
        }
        c->ended = true;
        std::error_code ignored;
        c->socket.close(ignored);
        bool by_user = false;
        {
            std::lock_guard lock(mutex_);
            connections_.erase(c->id);
            unsent_ -= c->pending_sends + c->writing_sends;
            c->pending_sends = 0;
            c->writing_sends = 0;
            by_user = c->closing;
            if (!by_user) {
                push(event{event::type::closed, c->id, {}});
            }
        }
        room_cv_.notify_all();
        if (c->dial_index >= 0 && !by_user) {
            redial_later(c->dial_index);
        }
    }

    // ---- called with the mutex held ----------------------------------------------------

    void push(event next) {
        const bool was_empty = inbound_.empty();
        const connection_id id = next.connection;
        inbound_.push(id, std::move(next));
        if (was_empty) {
            readable_.raise();
            inbound_cv_.notify_all();
        }
    }

    bool inbound_full(connection_id id) const {
        return opts_.receive_high_water_mark > 0 &&
               inbound_.size_of(id) >= static_cast<std::size_t>(opts_.receive_high_water_mark);
    }

    // Declared first so it is destroyed last: everything below may hold its handlers.
    asio::io_context io_;
    asio::executor_work_guard<asio::io_context::executor_type> work_{asio::make_work_guard(io_)};
    std::vector<endpoint> endpoints_;
    options opts_;
    std::vector<std::string> resolved_;
    std::vector<std::unique_ptr<tcp::acceptor>> acceptors_;
    std::vector<std::unique_ptr<asio::steady_timer>> redial_timers_;  // by endpoint index
    std::vector<redial_backoff> backoff_;                             // by endpoint index
    std::thread thread_;
    wake_signal readable_;  // while events wait

    mutable std::mutex mutex_;
    std::condition_variable inbound_cv_;
    std::condition_variable room_cv_;
    fair_queue<connection_id, event> inbound_;
    std::map<connection_id, connection_ptr> connections_;
    connection_id next_id_ = 1;
    std::size_t unsent_ = 0;  // sends queued or being written, for the linger
};

}  // namespace

std::unique_ptr<stream_impl> make_raw_stream(const std::vector<endpoint>& endpoints,
                                             const options& opts) {
    return std::make_unique<raw_stream>(endpoints, opts);
}

}  // namespace zpat::detail
