#pragma once
// pipe_set: a raw socket's pipes and their life on the process's raw I/O thread (io_thread.hpp):
// listening and accepting, dialling and redialling with backoff, the greeting, batched writes,
// reading and decoding, the connection limits, and closing. What the messages mean is the
// role's: it hears of each pipe's events through pipe_events, and sends through enqueue().
//
// One mutex guards the pipes' queues and whatever the role keeps beside them; the role takes
// it (mutex()) around its own calls, and pipe_events are called with it held.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include "connection_limits.hpp"
#include "core/log_line.hpp"
#include "pipe.hpp"
#include "tcp_common.hpp"
#include "wire.hpp"
#include "zpat/core/connection_counts.hpp"
#include "zpat/core/connection_info.hpp"
#include "zpat/core/endpoint.hpp"
#include "zpat/core/options.hpp"

namespace zpat::detail {

// Why a role drops a pipe for what it sent: the peer broke the protocol (counted as malformed),
// or a limit of the role's options (over_limit). A reason string converts to the first kind.
struct drop_reason {
    drop_reason(const char* reason = nullptr) : why(reason) {}  // implicit: `return "why";`
    static drop_reason limit(const char* reason) {
        drop_reason r(reason);
        r.over_limit = true;
        return r;
    }
    const char* why;  // nullptr: nothing wrong
    bool over_limit = false;
};

// What a role hears of its pipes. Every call is on the I/O thread, with the set's mutex held.
class pipe_events {
  public:
    // `p` passed its greeting and may be sent to.
    virtual void greeted(pipe& p) { (void)p; }
    // `p` decoded `count` messages into p.stock[0, count). Returns nullptr, or the reason `p`
    // must be dropped for them.
    virtual drop_reason arrived(pipe& p, std::size_t count) = 0;
    // Whether `p` must stop being read until room_made(): its messages wait unreceived at the
    // receive high-water mark.
    virtual bool full(const pipe& p) {
        (void)p;
        return false;
    }
    // `p`'s connection ended; if p.accepted(), the pipe is gone for good.
    virtual void ended(pipe& p) { (void)p; }
    // A connect endpoint's TLS handshake failed, on either side's word: `why` says so, with
    // the endpoint and OpenSSL's reason. The pipe redials with backoff.
    virtual void refused(pipe& p, const std::string& why) {
        (void)p;
        (void)why;
    }

  protected:
    pipe_events() = default;
    ~pipe_events() = default;
    pipe_events(const pipe_events&) = default;
    pipe_events& operator=(const pipe_events&) = default;
};

class pipe_set : public std::enable_shared_from_this<pipe_set> {
  public:
    using clock_type = std::chrono::steady_clock;

    // Binds every bind endpoint. Nothing runs until start(). `direct`: the role sends one
    // message and waits (request-reply), so a message to an idle pipe is written at once from
    // the sender's thread, saving the hop through the I/O thread that is most of a loopback
    // round trip; streams go through the I/O thread, which writes them in batches.
    // Throws: connection_error naming the endpoint that could not be bound.
    static std::shared_ptr<pipe_set> open(wire::role self, std::vector<endpoint> endpoints,
                                          const options& opts, bool direct);
    // Pipes with no greeting and no framing, for zpat::stream: a pipe is greeted as soon as it
    // is connected, each read arrives as one message of one frame, and enqueue_bytes() writes
    // bytes as they are. `name` names the role in the log.
    static std::shared_ptr<pipe_set> open_unframed(const char* name,
                                                   std::vector<endpoint> endpoints,
                                                   const options& opts);
    // Before start(): what each read brings arrives as one encoded batch of the whole messages
    // in it (encoded_batch.hpp), checked but not decoded, in p.stock[0].
    void deliver_encoded() noexcept { encoded_ = true; }
    // Starts accepting and dialling; `events` must stay until close() has returned.
    void start(pipe_events& events);
    // Waits up to options::linger for what is queued to be written, then closes every pipe and
    // listener. Call once, before `events` goes.
    void close();

    pipe_set(wire::role self, std::vector<endpoint> endpoints, const options& opts, bool direct,
             bool framed, const char* name);
    ~pipe_set() = default;
    pipe_set(const pipe_set&) = delete;
    pipe_set& operator=(const pipe_set&) = delete;

    std::mutex& mutex() const noexcept { return mutex_; }
    const options& opts() const noexcept { return opts_; }
    const std::vector<std::string>& endpoints() const noexcept { return resolved_; }
    connection_counts counts() const;
    // Every greeted connection: its peer, endpoint, age and traffic. Takes the mutex.
    std::vector<connection_info> describe() const;

    // ---- with the mutex held ----
    // The pipes that may be sent to: every connect endpoint's, and accepted ones once greeted.
    const std::vector<pipe_ptr>& peers() const noexcept { return peers_; }
    // `p` may take another message: below the send high-water mark in messages and bytes, and
    // connected if options::immediate asks for that.
    bool has_room(const pipe& p) const noexcept {
        return (p.live || !opts_.immediate) && p.has_room(send_mark_, byte_mark_);
    }
    void enqueue(pipe& p, const message& msg);
    // Bytes as they are, as one message: an unframed pipe's, or one already encoded.
    void enqueue_bytes(pipe& p, std::string_view bytes);
    // Whether `p` may be written from the caller's thread now: idle, on plain TCP.
    bool writable_now(const pipe& p) const noexcept {
        return p.idle && !p.stale && !tls_server_ && !tls_client_;
    }
    // Writes p.gathered (whole encoded messages) from the caller's thread, without waiting;
    // what the socket does not take is copied to p's queue, for the I/O thread.
    void write_gathered(pipe& p);
    // The most runs write_gathered() writes at once.
    static constexpr std::size_t max_gathered = 256;
    // Closes `p` once what is queued for it is written; a connect endpoint's is not redialled.
    void close_when_written(pipe& p);
    std::size_t discard_queued(pipe& p);
    // Waits for a pipe's queue to shrink until options::send_timeout after the first call for
    // one send (`deadline` starts empty). Returns false once the time is up.
    bool wait_for_room(std::unique_lock<std::mutex>& lock,
                       std::optional<clock_type::time_point>& deadline);
    // A receiver took messages: restarts the read loops parked by pipe_events::full().
    void room_made();
    // Drops every connection and redials; what they still deliver is discarded.
    void reset();

  private:
    void accept_next(asio::ip::tcp::acceptor& acceptor);
    void accept_later(asio::ip::tcp::acceptor& acceptor, std::error_code failed);
    const std::string& bound_url(const asio::ip::tcp::acceptor& acceptor) const;
    void dial(int index);
    void redial_later(int index);
    void limits_sweep();
    void count_breach(connection_limits::limit broken);
    void begin(const pipe_ptr& p);
    void secure(const pipe_ptr& p);
    void converse(const pipe_ptr& p);
    void refuse_tls(const pipe_ptr& p, const std::string& why);
    void write_bytes(const pipe_ptr& p);
    void write_queued(const pipe_ptr& p);
    void read_more(const pipe_ptr& p);
    void took(const pipe_ptr& p, std::error_code ec, std::string_view data);
    bool take_input(const pipe_ptr& p, std::string_view data);
    bool take_encoded(const pipe_ptr& p, std::string_view data);
    std::span<char> read_target(pipe& p) const;
    bool take_greeting(const pipe_ptr& p, std::string_view& data);
    void greeted(const pipe_ptr& p);
    bool deliver(const pipe_ptr& p, std::size_t items, std::size_t messages, std::size_t bytes);
    bool is_full(const pipe& p);
    void resume_reading();
    void drop(const pipe_ptr& p, const std::string& reason, bool redial_now = false);
    void shut_down();
    pipe_ptr make_pipe(int dial_index);
    std::vector<pipe_ptr> every_pipe() const;  // I/O thread
    void log(const std::string& what) const;

    // Handlers hold a reference to the set, so it outlives them all; after shut_down() they
    // start nothing.
    asio::io_context& io_;
    const wire::role self_;
    const bool direct_;
    const bool framed_;
    bool encoded_ = false;    // deliver_encoded()
    const char* const name_;  // for the log
    const std::vector<endpoint> endpoints_;
    const options opts_;
    const std::size_t send_mark_;
    const std::size_t byte_mark_;
    std::vector<std::string> resolved_;
    pipe_events* events_ = nullptr;
    // raw+tls: the contexts of the bind endpoints' connections and the connect endpoints'.
    std::shared_ptr<asio::ssl::context> tls_server_;
    std::shared_ptr<asio::ssl::context> tls_client_;

    // I/O thread.
    bool stopping_ = false;
    std::vector<std::unique_ptr<asio::ip::tcp::acceptor>> acceptors_;
    std::vector<std::string> acceptor_urls_;                          // by acceptor
    std::vector<std::unique_ptr<asio::steady_timer>> redial_timers_;  // by endpoint index
    std::vector<pipe_ptr> slots_;                                     // by endpoint index
    std::vector<redial_backoff> backoff_;                             // by endpoint index
    std::vector<pipe_ptr> accepted_;  // until dropped, greeted or not
    asio::steady_timer limits_timer_;
    connection_limits limits_;
    throttled_log refusals_;  // failed TLS handshakes, which a peer can repeat at will
    // Written on the I/O thread, read from any (counts()).
    struct {
        std::atomic<std::uint64_t> opened{0}, closed{0}, refused{0}, malformed{0},
            handshake_timeouts{0}, partial_timeouts{0}, idle_timeouts{0}, over_limits{0};
    } counted_;

    mutable std::mutex mutex_;
    std::condition_variable room_cv_;  // senders waiting for room, and the lingering close
    std::vector<pipe_ptr> peers_;
    std::size_t unsent_ = 0;  // messages queued or being written
    pipe::id_type next_id_ = 1;
    bool reading_parked_ = false;  // some pipe's read loop waits for room_made()
    std::string direct_bytes_;
};

}  // namespace zpat::detail
