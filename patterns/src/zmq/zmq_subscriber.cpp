// Subscriber on ZeroMQ: a SUB socket. libzmq sends the subscriptions upstream, so a publisher
// filters before the network, and also filters locally, so an unsubscribe takes effect at once.
//
// With options::failover it connects to one of its endpoints at a time, as the Guide's Binary
// Star client does. The socket monitor's counts tell it when that connection is lost (libzmq
// counts it closed; ZMTP heartbeats close a silent one) or was never made: then it connects to
// the next endpoint instead, and libzmq sends the SUB's subscriptions there.

#include <algorithm>
#include <cerrno>
#include <chrono>

#include "core/log_line.hpp"
#include "zmq_cells.hpp"

namespace zpat::detail {
namespace {

class zmq_subscriber final : public zmq_receiving_cell<subscriber_impl> {
  public:
    zmq_subscriber(const std::vector<endpoint>& endpoints, const options& opts)
        : zmq_receiving_cell(zmq::socket_type::sub, first_of(endpoints, opts), opts),
          alternatives_(opts.failover ? endpoints : std::vector<endpoint>{}) {
        for (const endpoint& ep : endpoints) {
            all_urls_.push_back(ep.url());
        }
        if (failing_over()) {
            listen_at(0);
        }
    }

    void subscribe(std::string_view prefix) override {
        socket_.set(zmq::sockopt::subscribe, prefix);
    }
    void unsubscribe(std::string_view prefix) override {
        socket_.set(zmq::sockopt::unsubscribe, prefix);
    }

    bool receive(message& into, milliseconds timeout) override {
        if (!failing_over()) {
            return socket_.receive(into, timeout);
        }
        // In slices, so that a lost connection is noticed while nothing arrives.
        const auto deadline = clock::now() + timeout;
        for (;;) {
            milliseconds slice = check_interval();
            if (timeout != forever) {
                const auto left = std::chrono::ceil<milliseconds>(deadline - clock::now());
                slice = std::clamp(left, milliseconds{0}, slice);
            }
            if (socket_.receive(into, slice)) {
                return true;
            }
            if (errno == EINTR) {
                return false;  // a signal: the caller decides
            }
            fail_over_if_lost();
            if (timeout != forever && clock::now() >= deadline) {
                return false;
            }
        }
    }

    const std::vector<std::string>& endpoints() const override {
        return failing_over() ? all_urls_ : socket_.endpoints();
    }

  private:
    using clock = std::chrono::steady_clock;

    static std::vector<endpoint> first_of(const std::vector<endpoint>& endpoints,
                                          const options& opts) {
        if (opts.failover && endpoints.size() > 1) {
            return {endpoints.front()};
        }
        return endpoints;
    }

    // One endpoint alone has nothing to fail over to: libzmq reconnects to it by itself.
    bool failing_over() const noexcept { return alternatives_.size() > 1; }

    milliseconds check_interval() const {
        return std::clamp(socket_.opts().failover_timeout / 4, milliseconds{1}, milliseconds{100});
    }

    void listen_at(std::size_t index) {
        if (index != current_) {
            socket_.connect_instead(alternatives_[index]);
            current_ = index;
        }
        at_ = socket_.connections();
        since_ = clock::now();
    }

    // Lost: a connection closed since it moved here (libzmq would make another to the same
    // place, but the Binary Star client tries the other server), or none made within the
    // failover timeout.
    void fail_over_if_lost() {
        const connection_counts now = socket_.connections();
        const bool closed = now.closed > at_.closed;
        const bool never_made =
            now.opened == at_.opened && clock::now() - since_ >= socket_.opts().failover_timeout;
        if (closed || never_made) {
            const std::size_t next = (current_ + 1) % alternatives_.size();
            log_.say(
                "zeromq SUB",
                (closed ? "lost the connection to " + all_urls_[current_]
                        : "no connection to " + all_urls_[current_] + " within " +
                              std::to_string(socket_.opts().failover_timeout.count()) + " ms") +
                    "; failing over to " + all_urls_[next]);
            listen_at(next);
        }
    }

    std::vector<endpoint> alternatives_;  // with options::failover: where it may listen
    std::vector<std::string> all_urls_;
    std::size_t current_ = 0;
    connection_counts at_{};  // the socket's counts when it moved to alternatives_[current_]
    clock::time_point since_{};
    throttled_log log_;  // between two silent endpoints it would say so every timeout
};

}  // namespace

std::unique_ptr<subscriber_impl> make_zmq_subscriber(const std::vector<endpoint>& endpoints,
                                                     const options& opts) {
    return std::make_unique<zmq_subscriber>(endpoints, opts);
}

}  // namespace zpat::detail
