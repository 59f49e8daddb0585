#include "plain_wire.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "bench.hpp"

namespace zpat::bench {
namespace {

using clock = std::chrono::steady_clock;

constexpr std::size_t max_frames = 1024;
constexpr std::size_t read_size = std::size_t{256} * 1024;
constexpr std::uint32_t max_size = 16U * 1024 * 1024;  // the format's default limit

[[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error(what + ": " + std::strerror(errno));
}

// A socket descriptor, closed when it goes.
class socket_fd {
  public:
    explicit socket_fd(int fd) : fd_(fd) {}
    ~socket_fd() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    socket_fd(socket_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    socket_fd(const socket_fd&) = delete;
    socket_fd& operator=(const socket_fd&) = delete;
    socket_fd& operator=(socket_fd&& other) noexcept {
        if (this != &other) {
            socket_fd gone(std::exchange(fd_, std::exchange(other.fd_, -1)));
        }
        return *this;
    }
    [[nodiscard]] int get() const { return fd_; }

  private:
    int fd_;
};

void write_all(int fd, const char* data, std::size_t size) {
    while (size > 0) {
        const ssize_t sent = ::send(fd, data, size, MSG_NOSIGNAL);
        if (sent < 0) {
            if (errno == EINTR) {
                continue;
            }
            fail("plain wire: send");
        }
        data += sent;
        size -= static_cast<std::size_t>(sent);
    }
}

void read_exact(int fd, char* into, std::size_t size) {
    while (size > 0) {
        const ssize_t got = ::recv(fd, into, size, 0);
        if (got == 0) {
            throw std::runtime_error("plain wire: the peer closed");
        }
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            fail("plain wire: recv");
        }
        into += got;
        size -= static_cast<std::size_t>(got);
    }
}

void put_u32(std::string& out, std::uint32_t value) {
    const std::uint32_t big = htonl(value);
    out.append(reinterpret_cast<const char*>(&big), sizeof big);  // NOLINT: bytes of an integer
}

std::uint32_t get_u32(const char* at) {
    std::uint32_t big = 0;
    std::memcpy(&big, at, sizeof big);
    return ntohl(big);
}

std::string encode(std::initializer_list<std::string_view> frames) {
    std::string out;
    put_u32(out, static_cast<std::uint32_t>(frames.size()));
    for (const std::string_view frame : frames) {
        put_u32(out, static_cast<std::uint32_t>(frame.size()));
        out.append(frame);
    }
    return out;
}

// Sends this side's greeting as `role`.
void send_greeting(int fd, char role) {
    const std::array<char, 8> mine{'Z', 'P', 'A', 'T', 1, role, 0, 0};
    write_all(fd, mine.data(), mine.size());
}

// Reads the other side's greeting and checks its magic and version.
void check_greeting(int fd) {
    std::array<char, 8> theirs{};
    read_exact(fd, theirs.data(), theirs.size());
    if (std::string_view(theirs.data(), 5) != std::string_view("ZPAT\x01", 5)) {
        throw std::runtime_error("plain wire: the peer's greeting is not ZPAT version 1");
    }
}

void greet(int fd, char role) {
    send_greeting(fd, role);
    check_greeting(fd);
}

// The bytes of `data` that make whole messages, counting them into `messages`; what is left is
// the start of the next. Checks every count and length before it is trusted.
std::size_t whole_messages(const char* data, std::size_t size, long& messages) {
    std::size_t done = 0;
    for (;;) {
        std::size_t at = done;
        if (size - at < 4) {
            return done;
        }
        const std::uint32_t frames = get_u32(data + at);
        if (frames == 0 || frames > max_frames) {
            throw std::runtime_error("plain wire: a message of " + std::to_string(frames) +
                                     " frames");
        }
        at += 4;
        std::size_t total = 0;
        for (std::uint32_t i = 0; i < frames; ++i) {
            if (size - at < 4) {
                return done;
            }
            const std::uint32_t length = get_u32(data + at);
            total += length;
            if (total > max_size) {
                throw std::runtime_error("plain wire: a message of at least " +
                                         std::to_string(total) + " bytes");
            }
            at += 4;
            if (size - at < length) {
                return done;
            }
            at += length;
        }
        done = at;
        ++messages;
    }
}

// Room after the `kept` bytes of an unfinished message: the buffer doubles for one larger than
// it (a message's length was checked against max_size on the way).
char* room_after(std::vector<char>& buffer, std::size_t kept) {
    if (kept == buffer.size()) {
        buffer.resize(buffer.size() * 2);
    }
    return buffer.data() + kept;
}

// Reads from `fd` into `buffer` after its `kept` bytes of an unfinished message, counts the
// whole messages now there and keeps the rest. Returns false when the peer has closed.
bool read_messages(int fd, std::vector<char>& buffer, std::size_t& kept, long& messages) {
    char* const room = room_after(buffer, kept);
    const ssize_t got = ::recv(fd, room, buffer.size() - kept, 0);
    if (got <= 0) {
        return got < 0 && errno == EINTR;
    }
    const std::size_t have = kept + static_cast<std::size_t>(got);
    const std::size_t whole = whole_messages(buffer.data(), have, messages);
    std::memmove(buffer.data(), buffer.data() + whole, have - whole);
    kept = have - whole;
    return true;
}

bool readable(int fd, std::chrono::milliseconds within) {
    pollfd ready{.fd = fd, .events = POLLIN, .revents = 0};
    return ::poll(&ready, 1, static_cast<int>(within.count())) > 0;
}

// "raw+tcp://host:port" or "tcp://host:port" -> a connected socket.
socket_fd connect_to(const std::string& endpoint) {
    const auto scheme = endpoint.find("://");
    const auto colon = endpoint.rfind(':');
    if (scheme == std::string::npos || colon <= scheme + 3) {
        throw std::runtime_error("plain wire: not host:port: " + endpoint);
    }
    const std::string host = endpoint.substr(scheme + 3, colon - scheme - 3);
    const std::string port = endpoint.substr(colon + 1);
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0 || found == nullptr) {
        throw std::runtime_error("plain wire: cannot resolve " + endpoint);
    }
    socket_fd s(::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const int connected = ::connect(s.get(), found->ai_addr, found->ai_addrlen);
    ::freeaddrinfo(found);
    if (s.get() < 0 || connected != 0) {
        fail("plain wire: connect to " + endpoint);
    }
    const int on = 1;
    ::setsockopt(s.get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    return s;
}

// A socket listening on an ephemeral loopback port, and its endpoint.
std::pair<socket_fd, std::string> listen_on_loopback() {
    socket_fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    auto* generic = reinterpret_cast<sockaddr*>(&address);  // NOLINT: the sockets API
    if (s.get() < 0 || ::bind(s.get(), generic, length) != 0 || ::listen(s.get(), 4) != 0 ||
        ::getsockname(s.get(), generic, &length) != 0) {
        fail("plain relay: listen");
    }
    return {std::move(s), "raw+tcp://127.0.0.1:" + std::to_string(ntohs(address.sin_port))};
}

socket_fd accept_one(const socket_fd& listening) {
    socket_fd s(::accept4(listening.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (s.get() < 0) {
        fail("plain relay: accept");
    }
    const int on = 1;
    ::setsockopt(s.get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    return s;
}

// A publisher and a subscriber connected through the middle, with a message through already.
struct plain_path {
    socket_fd sub;
    socket_fd pub;
    std::vector<char> buffer = std::vector<char>(read_size);
    std::size_t kept = 0;  // the subscriber's bytes of a message not yet whole
};

plain_path open_path(const std::string& frontend, const std::string& backend) {
    // The subscriber first (a broker subscribes upstream for what it is asked downstream); its
    // greeting is read once the publisher is in, as the relay takes the publisher first.
    plain_path path{connect_to(backend), socket_fd(-1)};
    send_greeting(path.sub.get(), 's');
    const std::string subscribe = encode({"\x01"});
    write_all(path.sub.get(), subscribe.data(), subscribe.size());
    path.pub = connect_to(frontend);
    greet(path.pub.get(), 'p');
    check_greeting(path.sub.get());
    long subscriptions = 0;
    while (subscriptions == 0) {  // the middle subscribes upstream
        if (!readable(path.pub.get(), std::chrono::seconds(5)) ||
            !read_messages(path.pub.get(), path.buffer, path.kept, subscriptions)) {
            throw std::runtime_error("plain wire: no subscription came from " + frontend);
        }
    }
    // The path is up once a probe arrives; the probes still on their way are drained.
    const std::string probe = encode({"probe", ""});
    path.kept = 0;
    long arrived = 0;
    for (const auto deadline = clock::now() + std::chrono::seconds(5);
         arrived == 0 && clock::now() < deadline;) {
        write_all(path.pub.get(), probe.data(), probe.size());
        if (readable(path.sub.get(), std::chrono::milliseconds(10))) {
            read_messages(path.sub.get(), path.buffer, path.kept, arrived);
        }
    }
    while (readable(path.sub.get(), std::chrono::milliseconds(50)) &&
           read_messages(path.sub.get(), path.buffer, path.kept, arrived)) {
    }
    if (arrived == 0 || path.kept != 0) {
        throw std::runtime_error("plain wire: nothing came through from " + frontend + " to " +
                                 backend);
    }
    return path;
}

}  // namespace

result plain_ends(const settings& s, const std::string& payload, const child_process& middle,
                  const std::string& frontend, const std::string& backend) {
    plain_path path = open_path(frontend, backend);
    // Messages pre-encoded into batches of about 64 KiB, written whole.
    const std::string one = encode({"topic", payload});
    const long per_batch = std::max<long>(1, 65536 / static_cast<long>(one.size()));
    std::string batch;
    for (long i = 0; i < std::min(per_batch, s.count); ++i) {
        batch += one;
    }
    const double cpu_before = middle.cpu_seconds();
    result r;
    const timed_window window;
    std::thread receiver([&] {
        while (r.delivered < s.count && readable(path.sub.get(), idle_limit) &&
               read_messages(path.sub.get(), path.buffer, path.kept, r.delivered)) {
        }
        window.stop(r);
    });
    try {
        for (long sent = 0; sent < s.count; sent += per_batch) {
            const long now = std::min(per_batch, s.count - sent);
            write_all(path.pub.get(), batch.data(), static_cast<std::size_t>(now) * one.size());
        }
    } catch (const std::runtime_error&) {
        ::shutdown(path.sub.get(), SHUT_RDWR);  // the middle has gone: end the receiver too
        receiver.join();
        throw;
    }
    receiver.join();
    r.middle_cpu_seconds = middle.cpu_seconds() - cpu_before;
    r.delivered = std::min(r.delivered, s.count);
    return r;
}

namespace {

// A plain subscriber's socket and its bytes of a message not yet whole.
struct plain_reader {
    socket_fd fd;
    std::vector<char> buffer = std::vector<char>(read_size);
    std::size_t kept = 0;
};

// Sends ("match", "probe") from `pub` until every reader has had one, then reads what is still
// on its way: every path through the middle is up.
void probe_fan(int pub, std::vector<plain_reader>& subs, const std::string& frontend) {
    const std::string probe = encode({"match", "probe"});
    std::vector<long> heard(subs.size(), 0);
    for (const auto deadline = clock::now() + std::chrono::seconds(5);
         std::ranges::count(heard, 0) > 0;) {
        if (clock::now() > deadline) {
            throw std::runtime_error("plain wire: a subscriber heard nothing through " + frontend);
        }
        write_all(pub, probe.data(), probe.size());
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        for (std::size_t i = 0; i < subs.size(); ++i) {
            while (readable(subs[i].fd.get(), std::chrono::milliseconds(0)) &&
                   read_messages(subs[i].fd.get(), subs[i].buffer, subs[i].kept, heard[i])) {
            }
        }
    }
    for (auto& sub : subs) {
        while (readable(sub.fd.get(), std::chrono::milliseconds(50)) &&
               read_messages(sub.fd.get(), sub.buffer, sub.kept, heard[0])) {
        }
        if (sub.kept != 0) {
            throw std::runtime_error("plain wire: a probe arrived torn through " + frontend);
        }
    }
}

// Publishers connected to `frontend`, each with its greeting answered and a subscription from
// the middle read.
std::vector<socket_fd> fan_publishers(int count, const std::string& frontend) {
    std::vector<socket_fd> pubs;
    std::vector<char> buffer(read_size);
    for (int i = 0; i < count; ++i) {
        pubs.push_back(connect_to(frontend));
        greet(pubs.back().get(), 'p');
        std::size_t kept = 0;
        long subscriptions = 0;
        while (subscriptions == 0) {
            if (!readable(pubs.back().get(), std::chrono::seconds(5)) ||
                !read_messages(pubs.back().get(), buffer, kept, subscriptions)) {
                throw std::runtime_error("plain wire: no subscription came from " + frontend);
            }
        }
    }
    return pubs;
}

// `count` messages from `pub`, written in pre-encoded batches of an even number of messages;
// with `half`, every other one is on a topic nobody wants, starting with a wanted one.
void publish_fan(int pub, long count, bool half, const std::string& payload) {
    const std::string wanted = encode({"match", payload});
    const std::string other = encode({"other", payload});  // as long as `wanted`
    const long per_batch = std::max<long>(2, 65536 / static_cast<long>(wanted.size())) & ~1L;
    std::string batch;
    for (long i = 0; i < std::min(per_batch, count); ++i) {
        batch += half && i % 2 == 1 ? other : wanted;
    }
    for (long sent = 0; sent < count; sent += per_batch) {
        const long now = std::min(per_batch, count - sent);
        write_all(pub, batch.data(), static_cast<std::size_t>(now) * wanted.size());
    }
}

}  // namespace

result plain_fan_ends(const settings& s, const fan_shape& f, const std::string& payload,
                      const child_process& middle, const std::string& frontend,
                      const std::string& backend) {
    std::vector<plain_reader> subs;
    const std::string subscribe = encode({"\x01match"});
    for (int i = 0; i < f.subscribers; ++i) {
        subs.push_back({connect_to(backend)});
        send_greeting(subs.back().fd.get(), 's');
        write_all(subs.back().fd.get(), subscribe.data(), subscribe.size());
    }
    const std::vector<socket_fd> pubs = fan_publishers(f.publishers, frontend);
    for (auto& sub : subs) {
        check_greeting(sub.fd.get());
    }
    probe_fan(pubs[0].get(), subs, frontend);
    const long each = s.count / f.publishers;
    const long per_subscriber = (f.half_matching ? (each + 1) / 2 : each) * f.publishers;
    std::atomic<long> delivered{0};
    const double cpu_before = middle.cpu_seconds();
    result r;
    const timed_window window;
    std::vector<std::thread> threads;
    threads.reserve(subs.size() + pubs.size());
    for (auto& sub : subs) {
        threads.emplace_back([&] {
            long mine = 0;
            while (mine < per_subscriber && readable(sub.fd.get(), idle_limit) &&
                   read_messages(sub.fd.get(), sub.buffer, sub.kept, mine)) {
            }
            delivered += std::min(mine, per_subscriber);
        });
    }
    for (const socket_fd& pub : pubs) {
        threads.emplace_back([&] { publish_fan(pub.get(), each, f.half_matching, payload); });
    }
    for (auto& t : threads) {
        t.join();
    }
    window.stop(r);
    r.middle_cpu_seconds = middle.cpu_seconds() - cpu_before;
    r.delivered = delivered;
    r.expected = per_subscriber * f.subscribers;
    return r;
}

int run_relay_process() {
    auto [front, front_endpoint] = listen_on_loopback();
    auto [back, back_endpoint] = listen_on_loopback();
    std::printf("frontend %s\nbackend %s\n", front_endpoint.c_str(), back_endpoint.c_str());
    std::fflush(stdout);
    const socket_fd pub = accept_one(front);
    greet(pub.get(), 's');
    const std::string subscribe = encode({"\x01"});
    write_all(pub.get(), subscribe.data(), subscribe.size());
    const socket_fd sub = accept_one(back);
    greet(sub.get(), 'p');
    std::vector<char> buffer(read_size);
    std::size_t kept = 0;
    long messages = 0;
    while (messages == 0 && read_messages(sub.get(), buffer, kept, messages)) {
    }
    // Read what the publisher sent, find the end of every message in it, write the whole ones.
    kept = 0;
    for (;;) {
        char* const room = room_after(buffer, kept);
        const ssize_t got = ::recv(pub.get(), room, buffer.size() - kept, 0);
        if (got <= 0) {
            return 0;  // the publisher has gone
        }
        const std::size_t have = kept + static_cast<std::size_t>(got);
        const std::size_t whole = whole_messages(buffer.data(), have, messages);
        write_all(sub.get(), buffer.data(), whole);
        std::memmove(buffer.data(), buffer.data() + whole, have - whole);
        kept = have - whole;
    }
}

}  // namespace zpat::bench
