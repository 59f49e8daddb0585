// Publisher on ZeroMQ: an XPUB socket. It behaves as PUB on the wire, and in addition hands us
// each subscription (XPUB_VERBOSE: every one, not only the first per topic), which is how
// wait_for_subscriptions() cures the slow-joiner problem.

#include <chrono>

#include "zmq_cells.hpp"
#include "zmq_subscription_limits.hpp"

namespace zpat::detail {
namespace {

// Subscription messages queue up inside libzmq until read, so send() reads them now and then.
// A read costs a system call (libzmq polls its mailbox), so it is spaced by time, not by count:
// the queue then holds at most what can arrive in one interval, and reads cost nothing
// measurable at millions of messages a second. The clock is looked at every so many sends.
constexpr std::uint64_t clock_check_every = 256;
constexpr auto drain_interval = std::chrono::milliseconds(20);

class zmq_publisher final : public publisher_impl, public zmq_socket_owner {
  public:
    zmq_publisher(const std::vector<endpoint>& endpoints, const options& opts)
        : socket_(zmq::socket_type::xpub, endpoints, opts), limits_(socket_) {
        socket_.set(zmq::sockopt::xpub_verbose, 1);
        socket_.set(zmq::sockopt::xpub_nodrop, opts.block_when_full ? 1 : 0);
        socket_.track_sources();
    }

    bool send(const message& msg) override {
        after_relayed(1);
        return socket_.send(msg);
    }
    zmq_socket& owned_socket() noexcept override { return socket_; }
    // Every send, also one that a relay makes, now and then reads the subscriptions.
    void after_relayed(std::uint64_t messages) override {
        sends_since_check_ += messages;
        if (sends_since_check_ >= clock_check_every) {
            sends_since_check_ = 0;
            const auto now = std::chrono::steady_clock::now();
            if (now - last_drain_ >= drain_interval) {
                last_drain_ = now;
                drain_subscriptions(milliseconds{0});
            }
        }
    }

    bool wait_for_subscriptions(std::size_t count, milliseconds timeout) override {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        drain_subscriptions(milliseconds{0});
        while (subscriptions_ < count) {
            const auto left = std::chrono::duration_cast<milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (timeout != forever && left.count() <= 0) {
                return false;
            }
            drain_subscriptions(timeout == forever ? forever : left);
        }
        return true;
    }

    std::size_t subscriptions_seen() const noexcept override { return subscriptions_; }
    const std::vector<std::string>& endpoints() const override { return socket_.endpoints(); }
    connection_counts connections() const override { return socket_.connections(); }
    std::vector<connection_info> open_connections() const override {
        return socket_.open_connections();
    }

  private:
    // Reads the subscription messages waiting (waiting up to `timeout` for the first one).
    void drain_subscriptions(milliseconds timeout) {
        while (socket_.receive(scratch_, timeout)) {
            // A subscription is one frame: 0x01 then the prefix (0x00 for an unsubscribe).
            if (!scratch_.empty() && !scratch_[0].empty() && scratch_[0][0] == '\x01') {
                ++subscriptions_;
            }
            if (scratch_.size() == 1) {
                limits_.note(scratch_[0]);
            }
            timeout = milliseconds{0};
        }
    }

    zmq_socket socket_;
    subscription_limits limits_;
    message scratch_;
    std::size_t subscriptions_ = 0;
    std::uint64_t sends_since_check_ = 0;
    std::chrono::steady_clock::time_point last_drain_{};
};

}  // namespace

std::unique_ptr<publisher_impl> make_zmq_publisher(const std::vector<endpoint>& endpoints,
                                                   const options& opts) {
    return std::make_unique<zmq_publisher>(endpoints, opts);
}

}  // namespace zpat::detail
