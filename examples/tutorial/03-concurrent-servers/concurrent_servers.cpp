// Concurrent servers, measured: the same line-echo service four ways, each handler "slow" (it
// waits 20 ms, as a call to a database would), against the same load of many clients.
//
//   sockets:   plain POSIX TCP on 127.0.0.1, a port the system picks (this step is about what
//              sockets make you do yourself, so there is no library between you and them)
//   protocol:  a line in ("ping 3\n"), the same line back
//   servers:   iterative (one client at a time), a thread per client, a pool of --pool threads,
//              and an event loop (one thread, poll(), the waits kept as timers)
//   load:      --clients connections at once, each sending --requests lines one after another
//
// It prints how long each server took to answer everyone; the event loop and the thread per
// client finish in about --requests x 20 ms, the pool in clients/pool times that, and the
// iterative server in clients x requests x 20 ms.
//
// With your own programs: --serve iterative|threads|pool|loop runs one of the servers on
// 127.0.0.1:--port until stopped, for the tutorial's multi-echo client; --against PORT puts the
// same load on a server of yours (any server that echoes what it gets) and times it.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/args.hpp"

namespace {

using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;
constexpr auto handler_wait = 20ms;

// ---- the socket calls every server and client needs ------------------------------------------

// Listens on 127.0.0.1:`port`; 0 lets the system pick, and `port` says which.
int listen_on_loopback(int& port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(fd, 128) != 0) {
        throw std::runtime_error("cannot listen on 127.0.0.1:" + std::to_string(port) + ": " +
                                 std::strerror(errno));
    }
    socklen_t length = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    port = ntohs(address.sin_port);
    return fd;
}

int connect_to_loopback(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        throw std::runtime_error("cannot connect to 127.0.0.1:" + std::to_string(port));
    }
    return fd;
}

// send() may write fewer bytes than asked: loop until all are out.
bool send_all(int fd, const std::string& bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        const auto n = ::send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
        if (n <= 0) {
            return false;
        }
        done += static_cast<std::size_t>(n);
    }
    return true;
}

// A stream has no message boundaries: read until a newline, keeping what came after it.
bool read_line(int fd, std::string& buffer, std::string& line) {
    for (;;) {
        const auto newline = buffer.find('\n');
        if (newline != std::string::npos) {
            line = buffer.substr(0, newline + 1);
            buffer.erase(0, newline + 1);
            return true;
        }
        char chunk[512];
        const auto n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) {
            return false;  // 0: the peer closed; <0: an error
        }
        buffer.append(chunk, static_cast<std::size_t>(n));
    }
}

// One client's whole conversation, answered in order by the blocking servers.
void serve_connection(int fd) {
    std::string buffer;
    std::string line;
    while (read_line(fd, buffer, line)) {
        std::this_thread::sleep_for(handler_wait);  // the slow part of the work
        if (!send_all(fd, line)) {
            break;
        }
    }
    ::close(fd);
}

// ---- four servers ---------------------------------------------------------------------------

// Each runs until `stop` is set, accepting on `listener`.
using server = std::function<void(int listener, const std::atomic<bool>& stop)>;

bool wait_readable(int fd, int timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, timeout_ms) > 0;
}

void iterative(int listener, const std::atomic<bool>& stop) {
    while (!stop) {
        if (wait_readable(listener, 50)) {
            serve_connection(::accept(listener, nullptr, nullptr));  // the others wait
        }
    }
}

void thread_per_client(int listener, const std::atomic<bool>& stop) {
    std::vector<std::thread> threads;
    while (!stop) {
        if (wait_readable(listener, 50)) {
            threads.emplace_back(serve_connection, ::accept(listener, nullptr, nullptr));
        }
    }
    for (auto& t : threads) {
        t.join();
    }
}

void thread_pool(int listener, const std::atomic<bool>& stop, unsigned size) {
    std::mutex mutex;
    std::condition_variable ready;
    std::deque<int> accepted;
    bool done = false;
    std::vector<std::thread> pool;
    for (unsigned i = 0; i < size; ++i) {
        pool.emplace_back([&] {
            for (;;) {
                std::unique_lock lock(mutex);
                ready.wait(lock, [&] { return done || !accepted.empty(); });
                if (accepted.empty()) {
                    return;
                }
                const int fd = accepted.front();
                accepted.pop_front();
                lock.unlock();
                serve_connection(fd);  // a pool thread is busy for the whole connection
            }
        });
    }
    while (!stop) {
        if (wait_readable(listener, 50)) {
            const std::lock_guard lock(mutex);
            accepted.push_back(::accept(listener, nullptr, nullptr));
            ready.notify_one();
        }
    }
    {
        const std::lock_guard lock(mutex);
        done = true;
    }
    ready.notify_all();
    for (auto& t : pool) {
        t.join();
    }
}

// One thread, poll() on every connection. A handler must never block the loop, so the 20 ms wait
// becomes a timer: the answer is sent when it is due.
void event_loop(int listener, const std::atomic<bool>& stop) {
    struct client {
        std::string buffer;
        std::deque<std::pair<clock_type::time_point, std::string>> due;  // answers, in order
    };
    std::map<int, client> clients;
    while (!stop) {
        std::vector<pollfd> fds{{listener, POLLIN, 0}};
        auto next_due = clock_type::now() + 50ms;
        for (const auto& [fd, c] : clients) {
            fds.push_back({fd, POLLIN, 0});
            if (!c.due.empty()) {
                next_due = std::min(next_due, c.due.front().first);
            }
        }
        const auto wait =
            std::chrono::ceil<std::chrono::milliseconds>(next_due - clock_type::now());
        ::poll(fds.data(), fds.size(),
               static_cast<int>(std::max(0L, static_cast<long>(wait.count()))));
        if ((fds[0].revents & POLLIN) != 0) {
            clients[::accept(listener, nullptr, nullptr)];
        }
        for (std::size_t i = 1; i < fds.size(); ++i) {
            if ((fds[i].revents & (POLLIN | POLLHUP)) == 0) {
                continue;
            }
            client& c = clients[fds[i].fd];
            char chunk[512];
            const auto n = ::recv(fds[i].fd, chunk, sizeof chunk, 0);
            if (n <= 0) {
                ::close(fds[i].fd);
                clients.erase(fds[i].fd);
                continue;
            }
            c.buffer.append(chunk, static_cast<std::size_t>(n));
            for (auto nl = c.buffer.find('\n'); nl != std::string::npos; nl = c.buffer.find('\n')) {
                c.due.emplace_back(clock_type::now() + handler_wait, c.buffer.substr(0, nl + 1));
                c.buffer.erase(0, nl + 1);
            }
        }
        const auto now = clock_type::now();
        for (auto& [fd, c] : clients) {
            while (!c.due.empty() && c.due.front().first <= now) {
                send_all(fd, c.due.front().second);  // small and loopback: sent at once
                c.due.pop_front();
            }
        }
    }
    for (const auto& [fd, c] : clients) {
        ::close(fd);
    }
}

// ---- the load, and the measurement -----------------------------------------------------------

// Runs `clients` conversations at once; returns the seconds until the last answer, or -1 if an
// answer was wrong or missing.
double load(int port, long clients, long requests) {
    std::atomic<bool> ok{true};
    std::vector<std::thread> threads;
    const auto start = clock_type::now();
    for (long c = 0; c < clients; ++c) {
        threads.emplace_back([&, c] {
            int fd = -1;
            try {
                fd = connect_to_loopback(port);
            } catch (const std::runtime_error& e) {
                std::fprintf(stderr, "concurrent_servers: %s\n", e.what());
                ok = false;
                return;
            }
            std::string buffer;
            std::string line;
            for (long r = 0; r < requests; ++r) {
                const std::string ping =
                    "ping " + std::to_string(c) + "." + std::to_string(r) + "\n";
                if (!send_all(fd, ping) || !read_line(fd, buffer, line) || line != ping) {
                    ok = false;
                    break;
                }
            }
            ::close(fd);
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    return ok ? std::chrono::duration<double>(clock_type::now() - start).count() : -1;
}

struct named_server {
    std::string key;    // what --serve calls it
    std::string label;  // what the table calls it
    server run;
};

bool report(const std::string& label, double seconds) {
    if (seconds < 0) {
        std::printf("  %-22s wrong or missing answers\n", label.c_str());
        return false;
    }
    std::printf("  %-22s %7.0f ms\n", label.c_str(), seconds * 1000);
    return true;
}

// Puts the load on one server, on a port of its own, and prints how long it took.
bool measure(const named_server& one, long clients, long requests) {
    int port = 0;
    const int listener = listen_on_loopback(port);
    std::atomic<bool> stop{false};
    std::thread serving([&] { one.run(listener, stop); });
    const double seconds = load(port, clients, requests);
    stop = true;
    serving.join();
    ::close(listener);
    return report(one.label, seconds);
}

// --serve: one server for clients of the reader's own, until the process is stopped.
int serve_until_stopped(const std::vector<named_server>& servers, const std::string& key,
                        int port) {
    for (const auto& one : servers) {
        if (one.key == key) {
            const int listener = listen_on_loopback(port);
            std::printf("concurrent_servers: %s listening on 127.0.0.1:%d\n", one.label.c_str(),
                        port);
            std::fflush(stdout);
            const std::atomic<bool> never{false};
            one.run(listener, never);
            return 0;
        }
    }
    std::fprintf(stderr,
                 "concurrent_servers: --serve is iterative, threads, pool or loop, not '%s'\n",
                 key.c_str());
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    example::args args(argc, argv,
                       "concurrent_servers: the same slow service served four ways, measured");
    const long clients = args.number("--clients", 16, "Clients at once", 1);
    const long requests = args.number("--requests", 5, "Requests per client", 1);
    const long pool_size = args.number("--pool", 4, "Threads of the pooled server", 1);
    const std::string serve =
        args.text("--serve", "", "Run one server (iterative, threads, pool or loop) until stopped");
    const long port = args.number("--port", 0, "The port --serve listens on (0: any, printed)", 0);
    const long against =
        args.number("--against", 0, "Time a server of yours on 127.0.0.1:PORT instead", 0);
    args.check();

    const std::vector<named_server> servers{
        {"iterative", "iterative", iterative},
        {"threads", "thread per client", thread_per_client},
        {"pool", "pool of " + std::to_string(pool_size) + " threads",
         [&](int l, const std::atomic<bool>& s) {
             thread_pool(l, s, static_cast<unsigned>(pool_size));
         }},
        {"loop", "event loop (1 thread)", event_loop},
    };
    try {
        if (!serve.empty()) {
            return serve_until_stopped(servers, serve, static_cast<int>(port));
        }
        if (against != 0) {
            std::printf("%ld clients at once, %ld requests each\n", clients, requests);
            return report("your server on port " + std::to_string(against),
                          load(static_cast<int>(against), clients, requests))
                       ? 0
                       : 1;
        }
        std::printf(
            "%ld clients at once, %ld requests each, every answer takes %lld ms of "
            "waiting\n",
            clients, requests, static_cast<long long>(handler_wait.count()));
        bool all_ok = true;
        for (const auto& one : servers) {
            all_ok = measure(one, clients, requests) && all_ok;
        }
        return all_ok ? 0 : 1;
    } catch (const std::runtime_error& e) {
        std::fprintf(stderr, "concurrent_servers: %s\n", e.what());
        return 1;
    }
}
