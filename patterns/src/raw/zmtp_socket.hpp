#pragma once
// What every ZeroMQ socket of zpat's own shares (zmtp_router.hpp is one): ZMTP 3.x under the
// NULL mechanism on its own TCP listeners, read and written on the thread that calls it. libzmq
// hands every message between its I/O thread and the caller's, a wakeup each way; these sockets
// do their I/O inside the caller's receive and send (docs/performance.md, "Majordomo"). Their
// connections wait in one epoll set, whose descriptor fd() a poller waits on. (Hand-rolled over
// epoll, not Asio: the poller seam waits on a descriptor, which Asio's reactor does not hand
// out.)
//
// This part accepts (out of descriptors, it stops accepting for 100 ms at a time instead of
// spinning), greets each peer (zmtp_connection.hpp) and closes those that have not finished
// their handshake within options::handshake_timeout (0, as for libzmq's ZMQ_HANDSHAKE_IVL, or
// forever: no limit), writes what each connection queues, keeps
// what other threads may read (counts and open connections), and, when a poller watches it
// beside plain descriptors, waits for those in its own epoll set (wait_beside). What messages
// mean is the socket's: it reads its peers when they are readable (readable()), hears of each
// handshake done (greeted()) and each connection's end (closing()), and says whether messages
// wait to be taken (has_waiting()), which keeps fd() readable. Not thread-safe, but for
// connections() and open_connections().

#include <chrono>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/log_line.hpp"
#include "core/waits_itself.hpp"
#include "zmtp_connection.hpp"
#include "zpat/core/connection_counts.hpp"
#include "zpat/core/connection_info.hpp"
#include "zpat/core/endpoint.hpp"
#include "zpat/core/message.hpp"
#include "zpat/core/options.hpp"

namespace zpat::detail {

class zmtp_socket : public waits_itself {
  public:
    zmtp_socket(const zmtp_socket&) = delete;
    zmtp_socket& operator=(const zmtp_socket&) = delete;
    virtual ~zmtp_socket();

    // Readable when there is I/O to do or a message waiting.
    int fd() const noexcept { return epoll_; }
    // A poller's wait (core/waits_itself.hpp): `others` join the epoll set until the next change
    // of generation, or until a wait of the socket's own sees one of them readable (neither that
    // wait nor a wait on fd() spins on them).
    bool wait_beside(std::span<pollfd> others, std::uint64_t generation,
                     milliseconds timeout) override;
    const std::vector<std::string>& endpoints() const noexcept { return endpoints_; }
    connection_counts connections() const;
    std::vector<connection_info> open_connections() const;

  protected:
    using clock = std::chrono::steady_clock;

    // One connection. A socket that keeps more per peer derives from it (make_peer()).
    struct peer {
        peer(int descriptor, const zmtp::connection::settings& settings)
            : fd(descriptor), conn(settings), opened(clock::now()) {}
        virtual ~peer() = default;
        peer(const peer&) = delete;
        peer& operator=(const peer&) = delete;

        int fd;
        zmtp::connection conn;
        clock::time_point opened;
        bool greeted = false;       // its READY has come, and greeted() has been called
        std::size_t unwritten = 0;  // messages queued since the socket last took everything
        bool watching_output = false;
        std::list<peer*>::iterator handshaking;  // its place in handshaking_, until greeted
    };

    // What the socket is: its READY's Socket-Type, the socket types it talks to, and its name
    // in the log.
    struct kind {
        std::string_view socket_type;
        std::span<const std::string_view> accepts;
        const char* name;
    };

    // Binds every endpoint of `binds` (tcp only). Throws: connection_error naming the endpoint,
    // unsupported_error for another scheme.
    zmtp_socket(const std::vector<endpoint>& binds, const options& opts, const kind& what);

    // A new connection's peer; `settings` are its connection's.
    virtual std::unique_ptr<peer> make_peer(int fd, const zmtp::connection::settings& settings) {
        return std::make_unique<peer>(fd, settings);
    }
    // `p` is readable (or hung up): read it with receive_from(), take the bytes, settle().
    virtual void readable(peer& p) = 0;
    // `p`'s READY came: it may be sent to.
    virtual void greeted(peer& p) { static_cast<void>(p); }
    // `p`'s connection ends; it is gone once this returns.
    virtual void closing(peer& p) { static_cast<void>(p); }
    // Whether messages read earlier wait to be taken: fd() stays readable, and peers are not
    // read in wait_beside() until they have been. The inbox's, unless the socket keeps its own.
    virtual bool has_waiting() const { return !inbox_.empty(); }

    // Writes what is queued for up to options::linger (forever: as long as it takes), reading
    // nothing more. The derived socket's destructor calls it, while its peers' hooks still work.
    void linger();
    // Waits up to `timeout` for I/O and does it; reads the peers that are readable unless
    // `read` is false.
    void pump(milliseconds timeout, bool read = true);
    // What `p` has sent, read into the socket's buffer: empty when nothing was there, nullopt
    // when the connection ended (and is closed).
    std::optional<std::string_view> receive_from(peer& p);
    // Calls greeted() the first time `p`'s handshake is seen done.
    void note_greeted(peer& p);
    // After `p`'s connection took bytes: closes it, naming why, when `open` is false (returns
    // false), else writes what it queued (PONGs).
    bool settle(peer& p, bool open);
    // Writes what `p`'s connection queued, as much as the socket takes now.
    void flush(peer& p);
    // Whether `p` has send_high_water_mark messages or send_high_water_bytes unwritten.
    bool full(const peer& p) const;
    void close(peer& p, std::uint64_t connection_counts::*why);
    // Closes `p` for what it sent, saying so in the log, counted in `why`.
    void drop(peer& p, const std::string& reason, std::uint64_t connection_counts::*why);
    // Keeps fd() readable while has_waiting(): call after taking messages or adding them.
    void show_waiting();
    // Does the I/O that comes for up to `timeout` until has_waiting(). False on timeout.
    bool await_waiting(milliseconds timeout);
    // The inbox's next message, waiting up to `timeout` while doing the I/O that comes. False
    // on timeout.
    bool receive_waiting(message& into, milliseconds timeout);

    const options& opts() const noexcept { return options_; }
    const char* name() const noexcept { return kind_.name; }
    throttled_log& log() noexcept { return log_; }

    // Every connection, greeted or not.
    const std::unordered_map<int, std::unique_ptr<peer>>& connected() const noexcept {
        return peers_;
    }

    std::deque<message> inbox_;  // messages read, for the user to take

  private:
    // A poller's descriptor seen readable in a wait of the socket's own leaves the epoll set
    // until the poller's next wait_beside: a wait not for it must not spin on it, nor a wait on
    // fd().
    void drop_others_seen();
    void watch_others(std::span<pollfd> others, std::uint64_t generation);
    void unwatch_others();
    void other_ready(int fd, std::uint32_t events);
    void accept_from(int listener, const std::string& endpoint);
    void pause_accepting(const std::string& endpoint);
    void resume_accepting(clock::time_point now);
    void expire_handshakes(clock::time_point now);
    bool handshake_limited() const noexcept { return options_.handshake_timeout > milliseconds{0}; }
    void watch_output(peer& p, bool on);

    options options_;
    kind kind_;
    int epoll_ = -1;
    int waiting_ = -1;  // an eventfd in the epoll set, signalled while has_waiting()
    bool signalled_ = false;
    std::vector<std::pair<int, std::string>> listeners_;  // descriptor, endpoint
    std::vector<std::string> endpoints_;
    std::unordered_map<int, std::unique_ptr<peer>> peers_;  // by descriptor
    std::vector<char> read_buffer_;
    clock::time_point accepting_again_at_{};  // set while out of descriptors
    // Peers not yet greeted, oldest first: their deadlines come in this order, so the front's
    // bounds each wait and expiring looks at no more than the late ones.
    std::list<peer*> handshaking_;
    // A poller's descriptors in the epoll set (wait_beside), the generation they were given in
    // (0: none), those epoll would not take with what poll(2) says of them, where their
    // readiness goes while wait_beside runs, and whether an event of theirs came outside it.
    std::vector<int> others_;
    std::uint64_t others_generation_ = 0;
    std::vector<std::pair<int, short>> unwatchable_;
    std::span<pollfd> others_ready_;
    bool others_seen_ = false;
    throttled_log log_;  // closes for a reason, and accepts that failed

    mutable std::mutex shown_mutex_;  // what other threads read: counts and open connections
    connection_counts counts_;
    std::unordered_map<int, connection_info> shown_;
};

}  // namespace zpat::detail
