// Service worker on ZeroMQ: the Majordomo worker of RFC 7/MDP, on one DEALER per broker.
//
// The worker registers with READY, then answers REQUEST commands with REPLY. Heartbeats go out
// every heartbeat_interval while it waits; anything heard from the broker proves it alive. After
// heartbeat_liveness silent intervals the worker drops the connection, waits reconnect_interval
// and registers again on a fresh socket, as it does at once when the broker says DISCONNECT.
//
// The DEALER is libzmq's (zmq_channel), or, with options::io = io_model::caller and by default
// (io_model::automatic) where every broker is a tcp:// connect without CURVE, zpat's own on a
// zmtp_link (zmtp_channel): requests are then read and replies written by the thread that
// serves, without libzmq's I/O thread between, and READY goes out again on each new connection
// as soon as its handshake is done.

#include <poll.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <iterator>
#include <memory>
#include <utility>
#include <vector>

#include "raw/zmtp_link.hpp"
#include "zmq_cells.hpp"
#include "zpat/core/error.hpp"
#include "zpat/majordomo.hpp"

namespace zpat::detail {
namespace {

using clock = std::chrono::steady_clock;

options worker_options(options opts) {
    // A heartbeat that finds no room is simply skipped: the worker must never block on send.
    opts.send_timeout = milliseconds{0};
    return opts;
}

// The worker's connection to one broker, on libzmq: a DEALER socket, which queues what is sent
// until it connects (so READY goes out with each new socket) and does its I/O on libzmq's thread.
class zmq_channel {
  public:
    zmq_channel(const endpoint& broker, const options& opts)
        : socket_(zmq::socket_type::dealer, std::vector<endpoint>{broker}, opts) {}

    const std::vector<std::string>& endpoints() const { return socket_.endpoints(); }
    // Sends a reply (`head`, then `body`); false when it found no room.
    bool send(const message& head, const message& body) { return socket_.send(head, body); }
    // Sends a command, never waiting: one a broker cannot take now is of no use later (a CURVE
    // client that failed its handshake has no connection until its back-off ends).
    void send_now(const message& command) { socket_.send_now(message{}, command); }
    bool take(message& into) { return socket_.receive(into, milliseconds{0}); }
    void reopen() {
        socket_.reopen(false);  // its own pause between attempts is the back-off
        ++number_;
    }
    // Changes with each connection READY must be sent on: here each socket.
    std::uint64_t connection_number() const noexcept { return number_; }
    zmq::pollitem_t poll_item(bool reading) const {
        return {socket_.handle().socket(), 0, static_cast<short>(reading ? ZMQ_POLLIN : 0), 0};
    }
    void polled(short revents) { static_cast<void>(revents); }  // libzmq did the I/O
    clock::time_point due() const noexcept { return clock::time_point::max(); }
    connection_counts connections() const { return socket_.connections(); }
    std::vector<connection_info> open_connections() const { return socket_.open_connections(); }

  private:
    zmq_socket socket_;
    std::uint64_t number_ = 1;
};

constexpr std::array<std::string_view, 3> dealer_talks_to{"ROUTER", "DEALER", "REP"};
constexpr zmtp_link::kind dealer_kind{"DEALER", dealer_talks_to, "service worker"};

// The worker's connection to one broker, zpat's own: a zmtp_link read and written by the
// worker's thread in its own poll. Nothing is sent before a connection's handshake is done, so
// READY goes out once each connection is (connection_number()).
class zmtp_channel {
  public:
    zmtp_channel(const endpoint& broker, const options& opts)
        : link_(broker, opts, dealer_kind), endpoints_{link_.endpoint_text()} {}

    const std::vector<std::string>& endpoints() const { return endpoints_; }
    bool send(const message& head, const message& body) { return link_.send(head, body); }
    void send_now(const message& command) { link_.send(message{}, command); }
    bool take(message& into) { return link_.take(into); }
    void reopen() { link_.reopen(); }
    std::uint64_t connection_number() const noexcept { return link_.connection_number(); }
    // zmq_poll takes plain descriptors too, with its own names for the events. A link the
    // worker has given up on until it reconnects is not watched at all (nor woken for by a
    // hang-up): reconnecting opens it afresh.
    zmq::pollitem_t poll_item(bool reading) const {
        if (!reading) {
            return {nullptr, -1, 0, 0};
        }
        const pollfd wanted = link_.interest();
        short events = 0;
        if ((wanted.events & POLLIN) != 0) {
            events |= ZMQ_POLLIN;
        }
        if ((wanted.events & POLLOUT) != 0) {
            events |= ZMQ_POLLOUT;
        }
        return {nullptr, wanted.fd, events, 0};
    }
    void polled(short revents) {
        short events = 0;
        if ((revents & ZMQ_POLLIN) != 0) {
            events |= POLLIN;
        }
        if ((revents & ZMQ_POLLOUT) != 0) {
            events |= POLLOUT;
        }
        if ((revents & ZMQ_POLLERR) != 0) {
            events |= POLLERR;
        }
        link_.advance(events);
    }
    clock::time_point due() const noexcept { return link_.due(); }
    connection_counts connections() const { return link_.connections(); }
    std::vector<connection_info> open_connections() const { return link_.open_connections(); }

  private:
    zmtp_link link_;
    std::vector<std::string> endpoints_;
};

// One broker the worker is registered with: its own DEALER, its own heartbeat clock.
template <class Channel>
struct broker_link {
    broker_link(const endpoint& broker, const options& opts) : channel(broker, opts) {}
    Channel channel;
    bool connected = false;
    std::uint64_t announced_on = 0;  // the connection READY last went out on
    clock::time_point last_heard{};
    clock::time_point heartbeat_due{};
    clock::time_point reconnect_at{};
};

template <class Channel>
class mdp_worker final : public service_worker_impl {
    using link_type = broker_link<Channel>;

  public:
    mdp_worker(const std::vector<endpoint>& endpoints, std::string_view service,
               const options& opts)
        : service_(service),
          opts_(worker_options(opts)),
          expiry_(opts.heartbeat_interval * std::max(1, opts.heartbeat_liveness)) {
        // Given several brokers (a Binary Star pair, or brokers sharing the work), the worker
        // registers with each: whichever is serving clients finds it ready.
        for (const endpoint& e : endpoints) {
            links_.push_back(std::make_unique<link_type>(e, opts_));
            const auto& resolved = links_.back()->channel.endpoints();
            endpoints_.insert(endpoints_.end(), resolved.begin(), resolved.end());
        }
        for (auto& link : links_) {
            announce(*link);
        }
    }

    ~mdp_worker() override {
        // Leaving politely lets each broker forget this worker now instead of after the expiry.
        for (auto& link : links_) {
            if (link->connected) {
                send_command(*link, mdp::command::disconnect);
            }
        }
    }

    bool receive(message& body, milliseconds timeout) override {
        if (pending_ != nullptr) {
            throw state_error("service_worker::receive called while a request awaits its reply");
        }
        const clock::time_point deadline =
            timeout == forever ? clock::time_point::max() : clock::now() + timeout;
        // The I/O that is ready is done at least once, even with no time to wait: on zpat's
        // own channel nothing is read, nor a connection made, but in that wait.
        bool waited = false;
        while (!stopping_.requested()) {
            // Take what is queued before looking at the clock: a busy worker stays busy.
            if (link_type* from = take_queued()) {
                if (handle(*from, in_, body)) {
                    return true;
                }
                continue;
            }
            const clock::time_point now = clock::now();
            clock::time_point wake = clock::time_point::max();
            for (auto& link : links_) {
                wake = std::min(wake, keep_alive(*link, now));
            }
            if (now >= deadline && waited) {
                return false;
            }
            wait_for_brokers(std::chrono::ceil<milliseconds>(std::min(wake, deadline) - now));
            waited = true;
        }
        return false;
    }

    void reply(const message& body) override {
        if (pending_ == nullptr) {
            throw state_error("service_worker::reply called with no request pending");
        }
        check_sendable(body, opts_);
        link_type& link = *std::exchange(pending_, nullptr);
        if (!link.connected) {
            return;  // that broker went away meanwhile; the client will retry
        }
        message head{"", mdp::worker_header, mdp::frame_of(mdp::command::reply)};
        head.push_back(std::move(client_));
        head.push_back("");
        link.channel.send(head, body);
        link.heartbeat_due = clock::now() + opts_.heartbeat_interval;
    }

    void abandon() override {
        if (pending_ == nullptr) {
            throw state_error("service_worker::abandon called with no request pending");
        }
        link_type& link = *std::exchange(pending_, nullptr);
        // MDP has no way to refuse a request: to the broker this worker stays busy until it
        // replies. Leaving and registering again makes it idle there.
        send_command(link, mdp::command::disconnect);
        reconnect(link);
    }

    void serve(const request_handler& handler) override {
        message request;
        while (receive(request, forever)) {
            try {
                reply(handler(std::move(request)));
            } catch (const std::exception&) {
                ++failures_;
                abandon();
            }
        }
        stopping_.reset();
    }

    void stop() override { stopping_.request(); }

    std::uint64_t reconnects() const noexcept override { return reconnects_; }
    std::uint64_t malformed_commands() const noexcept override { return malformed_; }
    std::uint64_t handler_failures() const noexcept override { return failures_; }
    const std::vector<std::string>& endpoints() const override { return endpoints_; }
    connection_counts connections() const override {
        connection_counts all;
        for (const auto& link : links_) {
            all += link->channel.connections();
        }
        return all;
    }
    std::vector<connection_info> open_connections() const override {
        std::vector<connection_info> all;
        for (const auto& link : links_) {
            auto some = link->channel.open_connections();
            all.insert(all.end(), std::make_move_iterator(some.begin()),
                       std::make_move_iterator(some.end()));
        }
        return all;
    }

  private:
    void send_command(link_type& link, mdp::command c, std::string_view argument = {}) {
        message cmd{"", mdp::worker_header, mdp::frame_of(c)};
        if (!argument.empty()) {
            cmd.push_back(argument);
        }
        link.channel.send_now(cmd);
    }

    // Registers on the link's current connection and starts its heartbeat clock afresh.
    void announce(link_type& link) {
        send_command(link, mdp::command::ready, service_);
        link.announced_on = link.channel.connection_number();
        link.connected = true;
        const clock::time_point now = clock::now();
        link.last_heard = now;
        link.heartbeat_due = now + opts_.heartbeat_interval;
    }

    void reconnect(link_type& link) {
        ++reconnects_;
        link.channel.reopen();
        announce(link);
    }

    // A message one of the brokers has queued, into in_, taking the brokers in turn; the
    // broker it came from, or nullptr when none has one.
    link_type* take_queued() {
        for (std::size_t k = 0; k < links_.size(); ++k) {
            link_type& link = *links_[(next_ + k) % links_.size()];
            if (link.connected && link.channel.take(in_)) {
                next_ = (next_ + k + 1) % links_.size();
                return &link;
            }
        }
        return nullptr;
    }

    // Waits up to `wait` for any connected broker to send, or for stop(), and does the I/O
    // that came (zpat's own channels).
    void wait_for_brokers(milliseconds wait) {
        items_.clear();
        for (auto& link : links_) {  // a reconnect opened a new socket: take the handles afresh
            items_.push_back(link->channel.poll_item(link->connected));
        }
        items_.push_back(stopping_.poll_item());
        const bool interrupted = poll_interrupted(items_, std::max(milliseconds{0}, wait));
        for (std::size_t i = 0; i < links_.size(); ++i) {
            if (links_[i]->connected) {  // else left alone until it reconnects
                links_[i]->channel.polled(interrupted ? 0 : items_[i].revents);
            }
        }
        if (!interrupted && (items_.back().revents & ZMQ_POLLIN) != 0) {
            stopping_.drain();
        }
    }

    // Sends a heartbeat when one is due, notices a silent broker, and reconnects when the wait
    // after losing it is over. Returns when it next needs to run.
    clock::time_point keep_alive(link_type& link, clock::time_point now) {
        if (link.connected && link.channel.connection_number() != link.announced_on) {
            announce(link);  // a new connection (zpat's own channel), which knows nothing of us
        }
        if (!link.connected) {
            if (now < link.reconnect_at) {
                return link.reconnect_at;
            }
            reconnect(link);
        } else if (now - link.last_heard > expiry_) {
            // Close now, so nothing more is queued for a broker that is gone; open after a pause.
            link.connected = false;
            link.reconnect_at = now + opts_.reconnect_interval;
            return link.reconnect_at;
        }
        if (now >= link.heartbeat_due) {
            send_command(link, mdp::command::heartbeat);
            link.heartbeat_due = now + opts_.heartbeat_interval;
        }
        return std::min(
            {link.heartbeat_due, link.last_heard + expiry_ + milliseconds{1}, link.channel.due()});
    }

    // Acts on one message from `link`'s broker. Returns true when it was a request, now in
    // `body`.
    bool handle(link_type& link, message& in, message& body) {
        link.last_heard = clock::now();
        if (in.size() < 3 || !in[0].empty() || in[1] != mdp::worker_header || in[2].size() != 1) {
            ++malformed_;
            return false;
        }
        const auto cmd = static_cast<mdp::command>(in[2][0]);
        if (cmd == mdp::command::request && in.size() >= 5 && in[4].empty()) {
            client_ = std::move(in[3]);
            body.clear();
            for (std::size_t i = 5; i < in.size(); ++i) {
                body.push_back(std::move(in[i]));
            }
            pending_ = &link;
            return true;
        }
        if (cmd == mdp::command::disconnect) {
            reconnect(link);
        } else if (cmd != mdp::command::heartbeat) {
            ++malformed_;
        }
        return false;
    }

    std::string service_;
    options opts_;
    milliseconds expiry_;
    std::vector<std::unique_ptr<link_type>> links_;
    std::vector<std::string> endpoints_;
    std::vector<zmq::pollitem_t> items_;
    zmq_stop_signal stopping_;
    std::size_t next_ = 0;          // the link take_queued() looks at first
    link_type* pending_ = nullptr;  // where the request awaiting its reply came from
    std::string client_;
    message in_;  // reused for every command from a broker
    std::uint64_t reconnects_ = 0;
    std::uint64_t malformed_ = 0;
    std::uint64_t failures_ = 0;
};

}  // namespace

std::unique_ptr<service_worker_impl> make_zmq_service_worker(const std::vector<endpoint>& endpoints,
                                                             std::string_view service,
                                                             const options& opts) {
    if (opts.io == io_model::caller ||
        (opts.io == io_model::automatic && own_zmtp_fits(endpoints, opts))) {
        return std::make_unique<mdp_worker<zmtp_channel>>(endpoints, service, opts);
    }
    return std::make_unique<mdp_worker<zmq_channel>>(endpoints, service, opts);
}

}  // namespace zpat::detail
