// Replier on raw TCP: each request remembers the connection it came on, and its reply goes
// back there. The socket is thread-safe, so a pool of handler threads simply takes requests
// from it side by side; stop() interrupts their waits.

#include <atomic>
#include <thread>

#include "raw_cells.hpp"
#include "zpat/core/error.hpp"

namespace zpat::detail {
namespace {

class raw_replier final : public replier_impl {
  public:
    raw_replier(const std::vector<endpoint>& endpoints, const options& opts)
        : opts_(opts), socket_(wire::role::replier, endpoints, opts) {}

    bool receive(message& into, milliseconds timeout) override {
        if (pending_) {
            throw state_error("replier::receive called while a request awaits its reply");
        }
        pending_ = socket_.receive(into, timeout, &pending_peer_);
        return pending_;
    }

    void reply(const message& reply) override {
        if (!pending_) {
            throw state_error("replier::reply called with no request pending");
        }
        pending_ = false;
        check_raw_sendable(reply, opts_);
        socket_.send_to(pending_peer_, reply);  // a client that left simply misses it
    }

    void serve(const replier::handler& handler, unsigned threads) override {
        run_on_threads(threads, [&] { serve_one(handler); });
        socket_.clear_interrupt();
    }

    void stop() override { socket_.interrupt(); }

    std::uint64_t handler_failures() const noexcept override { return failures_.load(); }
    std::uint64_t malformed_requests() const noexcept override { return 0; }
    std::uint64_t oversized_dropped() const noexcept override { return 0; }
    poll_handle handle() const override { return {nullptr, socket_.readable_fd()}; }
    const std::vector<std::string>& endpoints() const override { return socket_.endpoints(); }
    connection_counts connections() const override { return socket_.counts(); }

  private:
    void serve_one(const replier::handler& handler) {
        message request;
        raw_socket::peer_id from = 0;
        while (socket_.receive(request, forever, &from)) {
            try {
                message reply = handler(std::move(request));
                check_raw_sendable(reply, opts_);
                socket_.send_to(from, reply);
            } catch (const std::exception&) {
                failures_.fetch_add(1);
            }
            request = message{};
        }
    }

    options opts_;
    raw_socket socket_;
    bool pending_ = false;
    raw_socket::peer_id pending_peer_ = 0;
    std::atomic<std::uint64_t> failures_{0};
};

}  // namespace

std::unique_ptr<replier_impl> make_raw_replier(const std::vector<endpoint>& endpoints,
                                               const options& opts) {
    return std::make_unique<raw_replier>(endpoints, opts);
}

}  // namespace zpat::detail
