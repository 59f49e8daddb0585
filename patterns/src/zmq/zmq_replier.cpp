// Replier on ZeroMQ: a ROUTER socket that does what REP does (keep the envelope of a request and
// put it back on the reply) but can drop a request, and can feed a pool of handler threads.
//
// The pool is the ZeroMQ Guide's load-balancing broker in miniature: handler threads sit on
// DEALER sockets behind an inproc ROUTER in a private context, announce themselves ready, and
// each request goes to the thread that has been idle longest. A slow request therefore never
// holds up others while a thread is free. stop() arrives on an inproc PULL socket that serve()
// polls; shutting the private context down wakes the handler threads at the end.
//
// With one thread, serve() waits in a plain receive, as a REP socket would: a poll of two
// sockets per request costs six system calls more than the round trip itself. stop() reaches
// that receive as a message from a private inproc peer, told apart by a routing id that only
// this replier knows.

#include <atomic>
#include <cerrno>
#include <chrono>
#include <deque>
#include <random>
#include <string>
#include <thread>

#include "zmq_cells.hpp"
#include "zpat/core/error.hpp"

namespace zpat::detail {
namespace {

// What a pool thread sends when it is free: once at start, and after a handler threw instead of
// a reply. Replies always carry an envelope, so they never look like these one-frame signals.
constexpr std::string_view ready_signal = "READY";
constexpr std::string_view failed_signal = "FAILED";

// Moves the routing envelope (identity frames up to and including the empty delimiter) from the
// front of `msg` into `envelope`. Returns false when `msg` has no delimiter: it did not come from
// a REQ peer or a DEALER peer that follows the REQ envelope convention.
bool split_envelope(message& msg, message& envelope) {
    std::size_t delimiter = 0;
    while (delimiter < msg.size() && !msg[delimiter].empty()) {
        ++delimiter;
    }
    if (delimiter == 0 || delimiter == msg.size()) {
        return false;
    }
    envelope.clear();
    for (std::size_t i = 0; i <= delimiter; ++i) {
        envelope.push_back(msg.pop_front());
    }
    return true;
}

bool has_envelope(const message& msg) {
    for (std::size_t i = 1; i < msg.size(); ++i) {
        if (msg[i].empty()) {
            return true;
        }
    }
    return false;
}

class zmq_replier final : public replier_impl {
  public:
    zmq_replier(const std::vector<endpoint>& endpoints, const options& opts)
        : socket_(zmq::socket_type::router, endpoints, opts),
          wake_name_(unique_inproc_name("replier-wake")),
          wake_token_(random_token()) {
        try {
            socket_.socket().bind("inproc://" + wake_name_);  // not one of endpoints()
        } catch (const zmq::error_t& e) {
            throw_zmq_failure("binding the replier's wake-up", e.num());
        }
    }

    bool receive(message& into, milliseconds timeout) override {
        if (pending_) {
            throw state_error("replier::receive called while a request awaits its reply");
        }
        for (;;) {
            if (!socket_.receive(into, timeout) || is_wake(into)) {
                return false;
            }
            if (split_envelope(into, envelope_)) {
                pending_ = true;
                return true;
            }
            ++malformed_;
        }
    }

    void reply(const message& reply) override {
        if (!pending_) {
            throw state_error("replier::reply called with no request pending");
        }
        pending_ = false;
        socket_.send(envelope_, reply);
    }

    void serve(const request_handler& handler, unsigned threads) override {
        if (threads <= 1) {
            serve_inline(handler);
        } else {
            serve_pool(handler, threads);
        }
        stopping_.reset();
    }

    void stop() override {
        if (!stopping_.request()) {
            return;
        }
        try {
            // A routing id of its own for each wake-up: the ROUTER refuses a peer whose id is
            // still held by an earlier waker it has not finished closing, and that wake-up
            // would be lost (a serve() after a stop() then waited forever).
            zmq::socket_t waker(zmq_context(), zmq::socket_type::dealer);
            waker.set(zmq::sockopt::routing_id,
                      wake_token_ + std::to_string(wakes_.fetch_add(1) + 1));
            waker.set(zmq::sockopt::linger, 1000);
            waker.connect("inproc://" + wake_name_);
            (void)waker.send(zmq::str_buffer("stop"), zmq::send_flags::dontwait);
        } catch (const zmq::error_t& e) {
            throw_zmq_failure("waking a stopping replier", e.num());
        }
    }

    std::uint64_t handler_failures() const noexcept override { return failures_.load(); }
    std::uint64_t malformed_requests() const noexcept override { return malformed_; }
    std::uint64_t oversized_dropped() const noexcept override {
        return socket_.oversized_dropped();
    }
    poll_handle handle() const override { return socket_.handle(); }
    const std::vector<std::string>& endpoints() const override { return socket_.endpoints(); }
    connection_counts connections() const override { return socket_.connections(); }
    std::vector<connection_info> open_connections() const override {
        return socket_.open_connections();
    }

  private:
    static std::string random_token() {
        std::random_device random;
        std::string token = "zpat-wake-";
        for (int i = 0; i < 4; ++i) {
            token += std::to_string(random());
        }
        return token + "-";  // then the wake-up's number
    }
    // A wake-up from stop(): no client can know the token, so none can fake one.
    bool is_wake(const message& msg) const {
        return msg.size() == 2 && msg[0].starts_with(wake_token_);
    }

    std::vector<zmq::pollitem_t> poll_items(std::initializer_list<const zmq_socket*> sockets) {
        std::vector<zmq::pollitem_t> items;
        for (const zmq_socket* s : sockets) {
            items.push_back({s->handle().socket(), 0, ZMQ_POLLIN, 0});
        }
        items.push_back(stopping_.poll_item());
        return items;
    }

    // Runs the handler for the request in `request`; answers unless the handler throws.
    void answer(const request_handler& handler, message& request) {
        try {
            reply(handler(std::move(request)));
        } catch (const std::exception&) {
            pending_ = false;
            failures_.fetch_add(1);
        }
    }

    void serve_inline(const request_handler& handler) {
        message request;
        while (!stopping_.requested()) {
            // false: stop() woke it, or a signal interrupted the wait.
            if (receive(request, forever)) {
                answer(handler, request);
            }
        }
    }

    static void run_pool_thread(zmq::context_t& context, const std::string& name,
                                const request_handler& handler,
                                std::atomic<std::uint64_t>& failures) {
        try {
            zmq_socket link_to_pool(zmq::socket_type::dealer, {{link::connect, "inproc", name}},
                                    options{.max_message_size = SIZE_MAX}, context);
            const message ready{ready_signal};
            const message failed{failed_signal};
            message request;
            message envelope;
            link_to_pool.send(ready);
            while (link_to_pool.receive(request, forever)) {
                split_envelope(request, envelope);  // checked by the pool before it came here
                try {
                    link_to_pool.send(envelope, handler(std::move(request)));
                } catch (const std::exception&) {
                    failures.fetch_add(1);
                    link_to_pool.send(failed);
                }
            }
        } catch (const context_terminated&) {
            // The pool's context ended under a send or receive: nothing is left to serve.
        } catch (const zmq::error_t& e) {  // or before the socket was made
            if (e.num() != ETERM) {
                throw_zmq_failure("opening a pool thread's socket", e.num());
            }
        }
    }

    // serve_pool()'s bookkeeping: which threads wait for work, and how many have some.
    struct pool_state {
        std::deque<std::string> idle;  // identities of ready threads, longest idle first
        std::size_t busy = 0;
        message from_pool;
        message from_client;
        message to_pool;
    };

    // A pool thread reports: ready for work, a reply (sent on to its client), or a failure.
    void take_from_pool(zmq_socket& pool, pool_state& state) {
        if (!pool.receive(state.from_pool, milliseconds{0})) {
            return;
        }
        state.idle.push_back(state.from_pool.pop_front());
        const bool is_signal = state.from_pool.size() == 1;
        if (!is_signal || state.from_pool[0] == failed_signal) {
            --state.busy;
        }
        if (!is_signal) {
            socket_.send(state.from_pool);
        }
    }

    // A client's request goes to the thread that has been idle longest.
    void take_from_client(zmq_socket& pool, pool_state& state) {
        if (!socket_.receive(state.from_client, milliseconds{0}) || is_wake(state.from_client)) {
            return;  // nothing, or the stop signal, which has woken the poll too
        }
        if (!has_envelope(state.from_client)) {
            ++malformed_;
            return;
        }
        state.to_pool.clear();
        state.to_pool.push_back(std::move(state.idle.front()));
        state.idle.pop_front();
        ++state.busy;
        pool.send(state.to_pool, state.from_client);
    }

    void serve_pool(const request_handler& handler, unsigned threads) {
        zmq::context_t pool_context(0);  // inproc only: no I/O threads needed
        const std::string pool_name = unique_inproc_name("replier-pool");
        zmq_socket pool(zmq::socket_type::router, {{link::bind, "inproc", pool_name}},
                        options{.max_message_size = SIZE_MAX}, pool_context);
        std::vector<std::thread> workers;
        workers.reserve(threads);
        for (unsigned i = 0; i < threads; ++i) {
            workers.emplace_back(run_pool_thread, std::ref(pool_context), std::cref(pool_name),
                                 std::cref(handler), std::ref(failures_));
        }

        auto items = poll_items({&pool, &socket_});
        if (socket_.upkeep_fd() >= 0) {  // a CURVE client's reconnection (zmq_reconnect.hpp)
            items.push_back({nullptr, socket_.upkeep_fd(), ZMQ_POLLIN, 0});
        }
        pool_state state;
        std::chrono::steady_clock::time_point drain_deadline{};
        for (;;) {
            const bool draining = stopping_.requested();
            if (draining && state.busy == 0) {
                break;
            }
            if (draining && drain_deadline == std::chrono::steady_clock::time_point{}) {
                drain_deadline = std::chrono::steady_clock::now() + socket_.opts().linger;
            }
            // Take requests from clients only while a thread is free to run them.
            items[1].events = (!draining && !state.idle.empty()) ? ZMQ_POLLIN : 0;
            socket_.upkeep();
            if (poll_interrupted(items,
                                 socket_.upkeep_wait(draining ? milliseconds{50} : forever))) {
                continue;
            }
            if (draining && socket_.opts().linger != forever &&
                std::chrono::steady_clock::now() > drain_deadline) {
                break;
            }
            if ((items[0].revents & ZMQ_POLLIN) != 0) {
                take_from_pool(pool, state);
            }
            if ((items[1].revents & ZMQ_POLLIN) != 0 && !state.idle.empty()) {
                take_from_client(pool, state);
            }
            if ((items[2].revents & ZMQ_POLLIN) != 0) {
                stopping_.drain();
            }
        }
        pool_context.shutdown();
        for (auto& worker : workers) {
            worker.join();
        }
    }

    zmq_socket socket_;
    std::string wake_name_;
    std::string wake_token_;
    std::atomic<std::uint64_t> wakes_{0};
    message envelope_;
    bool pending_ = false;
    zmq_stop_signal stopping_;
    std::atomic<std::uint64_t> failures_{0};
    std::uint64_t malformed_ = 0;
};

}  // namespace

std::unique_ptr<replier_impl> make_zmq_replier(const std::vector<endpoint>& endpoints,
                                               const options& opts) {
    return std::make_unique<zmq_replier>(endpoints, opts);
}

}  // namespace zpat::detail
