#include "zmq_watch.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "core/kernel_traffic.hpp"
#include "core/log_line.hpp"
#include "zmq_socket.hpp"
#include "zpat/core/wake_signal.hpp"

namespace zpat::detail {

struct watched_socket {
    std::shared_ptr<watched_counts> counts;
    std::uint64_t watch = 0;  // its number among the watches of the counts' socket
    std::string name;
    watched_security security = watched_security::none;
    // The watcher thread's, one for each kind of line, so that a flood of one kind does not
    // hide another: handshake timeouts, refusals, malformed peers.
    std::array<throttled_log, 3> logs;
    zmq::socket_t events;  // PAIR, connected to the monitor's; the watcher thread's once added
    std::mutex mutex;
    void* socket = nullptr;  // the watched socket, until monitoring stops (under mutex)

    // Stops libzmq's monitor of the socket, once; it sends ZMQ_EVENT_MONITOR_STOPPED.
    void stop_monitor() {
        const std::lock_guard lock(mutex);
        if (socket != nullptr) {
            (void)zmq_socket_monitor(socket, nullptr, 0);
            socket = nullptr;
        }
    }
};

namespace {

constexpr int watched_events =
    ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED |
    ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
    ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_MONITOR_STOPPED;

// Mechanism, ZAP and authentication failures are the peer's credentials or security refused;
// the rest of ZMTP's protocol errors are bytes that break it.
bool is_refusal(std::uint32_t protocol_error) {
    return protocol_error == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH ||
           (protocol_error & 0xF0000000U) == ZMQ_PROTOCOL_ERROR_ZAP_UNSPECIFIED;
}

bool is_handshake_failure(std::uint16_t event) {
    return event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL ||
           event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL || event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
}

std::string protocol_error_text(std::uint32_t code) {
    switch (code) {
        case ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND:
            return "an unexpected ZMTP command";
        case ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_SEQUENCE:
            return "a ZMTP command out of sequence";
        case ZMQ_PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE:
            return "a failed key exchange";
        case ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_METADATA:
            return "invalid ZMTP metadata";
        case ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC:
            return "a cryptographic error";
        case ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH:
            return "a security mechanism other than this socket's";
        default:
            break;
    }
    if (code >= ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED &&
        code <= ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_WELCOME) {
        return "a malformed ZMTP command";
    }
    if ((code & 0xF0000000U) == ZMQ_PROTOCOL_ERROR_ZAP_UNSPECIFIED) {
        return "a failed ZAP exchange";
    }
    return "a ZMTP protocol error";
}

// What TCP connection `fd` carried (core/kernel_traffic.hpp). nullopt when `fd` is no longer the
// connection to `peer`: libzmq closes a descriptor before the monitor tells, and the number may
// be another socket's by then.
std::optional<connection_traffic> peer_traffic(int fd, const std::string& peer) {
    if (peer_of_descriptor(fd) != peer) {
        return std::nullopt;
    }
    return kernel_traffic(fd);
}

// Connection `fd`, just accepted or made through `where`, is open until it is disconnected.
void track_opened(watched_socket& w, int fd, std::string_view where) {
    w.counts->track_open(w.watch, fd,
                         {.peer = peer_of_descriptor(fd),
                          .endpoint = std::string(where),
                          .peer_role = {},  // ZMTP's Socket-Type is not told to a monitor
                          .since = std::chrono::system_clock::now(),
                          .traffic = std::nullopt});  // read from the kernel when asked
}

// One monitor event: what it counts, and what it logs (nothing for the ordinary ones).
void count(watched_socket& w, std::uint16_t event, std::uint32_t value, std::string_view where) {
    watched_counts& c = *w.counts;
    std::string said;
    std::size_t kind = 0;  // which of w.logs says it
    switch (event) {
        case ZMQ_EVENT_ACCEPTED:
        case ZMQ_EVENT_CONNECTED:
            ++c.opened;
            track_opened(w, static_cast<int>(value), where);
            break;
        case ZMQ_EVENT_DISCONNECTED:
            ++c.closed;
            c.track_closed(w.watch, static_cast<int>(value));
            break;
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
            ++c.handshakes_ok;
            if (c.refusal) {
                c.refusal->clear();
            }
            break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
            // The handshake timer leaves the errno of the last read that would have blocked.
            if (value == EAGAIN) {
                ++c.handshake_timeouts;
                said = "closed a connection: no handshake within the handshake timeout";
            } else if (w.security == watched_security::curve_client) {
                ++c.refused;
                kind = 1;
                said =
                    "the server closed the connection during the CURVE handshake: check that "
                    "options::curve.server_key is its public key and that it runs CURVE";
            }
            break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
            ++c.refused;
            kind = 1;
            if (w.security == watched_security::curve_client) {
                said = "the server refused this client's CURVE key (ZAP status " +
                       std::to_string(value) + "): it is not on the server's allow-list";
            } else if (w.security != watched_security::curve_server) {
                said = "refused a connection: authentication failed (ZAP status " +
                       std::to_string(value) + ")";
            }
            break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
            ++(is_refusal(value) ? c.refused : c.malformed);
            kind = is_refusal(value) ? 1 : 2;
            said = "closed a connection for " + protocol_error_text(value);
            break;
        default:
            break;
    }
    if (said.empty()) {
        return;
    }
    said += " on " + std::string(where);
    if (kind == 1 && c.refusal) {
        c.refuse(said);
    }
    w.logs.at(kind).say(w.name, std::move(said));
}

// The process's one watcher thread, made with the first watch and ended at exit, before the
// ZeroMQ context it depends on (it is made after it).
class watcher {
  public:
    static watcher& instance() {
        static watcher one(zmq_context());
        return one;
    }

    void add(std::shared_ptr<watched_socket> w) {
        {
            const std::lock_guard lock(mutex_);
            added_.push_back(std::move(w));
        }
        wake_.raise();
    }

  private:
    explicit watcher(zmq::context_t& /*made first*/) : thread_([this] { run(); }) {}

    ~watcher() {
        stopping_ = true;
        wake_.raise();
        thread_.join();
        // Roles still open at exit: stop their monitors, so that closing them later sends
        // nothing to a reader that is gone.
        take_added();
        for (const auto& w : watching_) {
            drain(*w);
            w->stop_monitor();
        }
    }

    void take_added() {
        const std::lock_guard lock(mutex_);
        for (auto& w : added_) {
            watching_.push_back(std::move(w));
        }
        added_.clear();
    }

    void run() {
        std::vector<zmq::pollitem_t> items;
        while (!stopping_) {
            items.assign(1, {nullptr, wake_.fd(), ZMQ_POLLIN, 0});
            for (const auto& w : watching_) {
                items.push_back({w->events.handle(), 0, ZMQ_POLLIN, 0});
            }
            if (zmq_poll(items.data(), static_cast<int>(items.size()), -1) < 0) {
                if (errno == ETERM) {
                    return;
                }
                continue;  // EINTR
            }
            wake_.clear();
            std::erase_if(watching_, [](const auto& w) { return !drain(*w); });
            take_added();
        }
    }

    // Counts every event waiting on `w`. Returns false once its monitor has stopped.
    static bool drain(watched_socket& w) {
        zmq_msg_t frame;
        zmq_msg_init(&frame);
        bool open = true;
        while (open && zmq_msg_recv(&frame, w.events.handle(), ZMQ_DONTWAIT) >= 0) {
            std::uint16_t event = 0;
            std::uint32_t value = 0;
            if (zmq_msg_size(&frame) >= sizeof event + sizeof value) {
                std::memcpy(&event, zmq_msg_data(&frame), sizeof event);
                std::memcpy(&value, static_cast<char*>(zmq_msg_data(&frame)) + sizeof event,
                            sizeof value);
            }
            std::string where;
            if (zmq_msg_recv(&frame, w.events.handle(), ZMQ_DONTWAIT) >= 0) {
                where.assign(static_cast<const char*>(zmq_msg_data(&frame)), zmq_msg_size(&frame));
            }
            if (event == ZMQ_EVENT_MONITOR_STOPPED) {
                open = false;
            } else {
                // libzmq gives up on the endpoint; the socket connects to it again itself. Noted
                // before a refusal is told, so that whoever sees the refusal sees this too.
                if (w.counts->stopped && is_handshake_failure(event)) {
                    w.counts->note_stopped(where);
                }
                count(w, event, value, where);
            }
        }
        zmq_msg_close(&frame);
        return open;
    }

    std::mutex mutex_;
    std::vector<std::shared_ptr<watched_socket>> added_;     // under mutex_, for the thread to take
    std::vector<std::shared_ptr<watched_socket>> watching_;  // the thread's
    wake_signal wake_;
    std::atomic<bool> stopping_ = false;
    std::thread thread_;
};

}  // namespace

std::string peer_of_descriptor(int fd) {
    sockaddr_storage at{};
    socklen_t size = sizeof at;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&at), &size) != 0) {
        return {};
    }
    std::array<char, INET6_ADDRSTRLEN> text{};
    if (at.ss_family == AF_INET) {
        const auto& v4 = reinterpret_cast<const sockaddr_in&>(at);
        ::inet_ntop(AF_INET, &v4.sin_addr, text.data(), text.size());
        return std::string(text.data()) + ":" + std::to_string(ntohs(v4.sin_port));
    }
    if (at.ss_family == AF_INET6) {
        const auto& v6 = reinterpret_cast<const sockaddr_in6&>(at);
        ::inet_ntop(AF_INET6, &v6.sin6_addr, text.data(), text.size());
        return "[" + std::string(text.data()) + "]:" + std::to_string(ntohs(v6.sin6_port));
    }
    ucred peer{};
    socklen_t cred_size = sizeof peer;
    if (at.ss_family == AF_UNIX &&
        ::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &cred_size) == 0) {
        return "pid " + std::to_string(peer.pid);
    }
    return {};
}

connection_watch::connection_watch(zmq::socket_t& socket, std::shared_ptr<watched_counts> counts,
                                   std::string name, watched_security security)
    : watched_(std::make_shared<watched_socket>()) {
    watched_->counts = std::move(counts);
    watched_->watch = watched_->counts->begin_watch();
    watched_->name = std::move(name);
    watched_->security = security;
    // Connected before the monitor binds (inproc allows it), so that libzmq's blocking sends
    // of events always have a reader's queue to go to.
    const std::string address = "inproc://" + unique_inproc_name("monitor");
    try {
        watched_->events = zmq::socket_t(zmq_context(), zmq::socket_type::pair);
        watched_->events.set(zmq::sockopt::linger, 0);
        watched_->events.connect(address);
    } catch (const zmq::error_t& e) {
        throw_zmq_failure("opening a socket's monitor", e.num());
    }
    if (zmq_socket_monitor(socket.handle(), address.c_str(), watched_events) != 0) {
        throw_zmq_failure("monitoring a socket", errno);
    }
    watched_->socket = socket.handle();
    watcher::instance().add(watched_);
}

connection_watch::~connection_watch() {
    watched_->stop_monitor();
    (void)watched_->counts->begin_watch();  // the socket's connections end with it
}

std::uint64_t watched_counts::begin_watch() {
    const std::lock_guard lock(mutex_);
    open_.clear();
    return ++watch_;
}

void watched_counts::track_open(std::uint64_t watch, int fd, connection_info info) {
    const std::lock_guard lock(mutex_);
    if (watch == watch_) {
        open_.insert_or_assign(fd, std::move(info));  // a reused descriptor is a new connection
    }
}

void watched_counts::track_closed(std::uint64_t watch, int fd) {
    const std::lock_guard lock(mutex_);
    if (watch == watch_) {
        open_.erase(fd);
    }
}

std::vector<connection_info> watched_counts::open_connections() const {
    std::vector<std::pair<int, connection_info>> open;
    {
        const std::lock_guard lock(mutex_);
        open.assign(open_.begin(), open_.end());
    }
    // The kernel is asked outside the lock, which the watcher thread takes for every event.
    std::vector<connection_info> all;
    all.reserve(open.size());
    for (auto& [fd, info] : open) {
        if (info.endpoint.starts_with("tcp://")) {
            info.traffic = peer_traffic(fd, info.peer);
        }
        all.push_back(std::move(info));
    }
    return all;
}

}  // namespace zpat::detail
