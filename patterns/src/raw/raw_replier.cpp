// Replier on raw TCP: each request remembers the connection it came on, and its reply goes
// back there. The socket is thread-safe, so a pool of handler threads simply takes requests
// from it side by side; stop() interrupts their waits.

#include <atomic>
#include <thread>

#include "raw_cells.hpp"
#include "zpat/core/error.hpp"

namespace zpat::detail {
namespace {

class raw_replier final : public replier_impl, private pipe_events {
  public:
    raw_replier(const std::vector<endpoint>& endpoints, const options& opts)
        : opts_(opts),
          pipes_(pipe_set::open(wire::role::replier, endpoints, opts, true)),
          requests_(*pipes_, inbox::taking::one_at_a_time) {
        pipes_->start(*this);
    }
    ~raw_replier() override { pipes_->close(); }
    raw_replier(const raw_replier&) = delete;
    raw_replier& operator=(const raw_replier&) = delete;

    bool receive(message& into, milliseconds timeout) override {
        if (pending_) {
            throw state_error("replier::receive called while a request awaits its reply");
        }
        pending_ = requests_.receive(into, timeout, &pending_peer_);
        return pending_;
    }

    void reply(const message& reply) override {
        if (!pending_) {
            throw state_error("replier::reply called with no request pending");
        }
        pending_ = false;
        check_sendable(reply, opts_);
        send_to(pending_peer_, reply);
    }

    void serve(const request_handler& handler, unsigned threads) override {
        run_on_threads(threads, [&] { serve_one(handler); });
        requests_.clear_interrupt();
    }

    void stop() override { requests_.interrupt(); }

    std::uint64_t handler_failures() const noexcept override { return failures_.load(); }
    std::uint64_t malformed_requests() const noexcept override { return 0; }
    std::uint64_t oversized_dropped() const noexcept override { return 0; }
    poll_handle handle() const override { return poll_handle::descriptor(requests_.readable_fd()); }
    const std::vector<std::string>& endpoints() const override { return pipes_->endpoints(); }
    connection_counts connections() const override { return pipes_->counts(); }
    std::vector<connection_info> open_connections() const override { return pipes_->describe(); }

  private:
    void serve_one(const request_handler& handler) {
        message request;
        pipe::id_type from = 0;
        while (requests_.receive(request, forever, &from)) {
            try {
                message reply = handler(std::move(request));
                check_sendable(reply, opts_);
                send_to(from, reply);
            } catch (const std::exception&) {
                failures_.fetch_add(1);
            }
            request = message{};
        }
    }

    // To the pipe the request came on. A client that left simply misses it, as does one with
    // the high-water mark of replies unread (a client that sends requests and never reads the
    // replies cannot grow our memory): libzmq's ROUTER drops there too.
    void send_to(pipe::id_type peer, const message& reply) {
        std::lock_guard lock(pipes_->mutex());
        for (const pipe_ptr& p : pipes_->peers()) {
            if (p->id == peer) {
                if (pipes_->has_room(*p)) {
                    pipes_->enqueue(*p, reply);
                }
                return;
            }
        }
    }

    drop_reason arrived(pipe& p, std::size_t count) override {
        requests_.accept(p, count, count);
        return nullptr;
    }
    bool full(const pipe& p) override { return requests_.full(p); }
    void ended(pipe& p) override { requests_.ended(p); }

    options opts_;
    std::shared_ptr<pipe_set> pipes_;
    inbox requests_;
    bool pending_ = false;
    pipe::id_type pending_peer_ = 0;
    std::atomic<std::uint64_t> failures_{0};
};

}  // namespace

std::unique_ptr<replier_impl> make_raw_replier(const std::vector<endpoint>& endpoints,
                                               const options& opts) {
    return std::make_unique<raw_replier>(endpoints, opts);
}

}  // namespace zpat::detail
