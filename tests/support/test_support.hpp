#pragma once
// Helpers shared by the tests: ephemeral endpoints per transport, and waiting on a condition with
// a deadline instead of sleeping.

#include <unistd.h>
#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

namespace zpat::testing {

using namespace std::chrono_literals;

// An endpoint a role can bind on `transport` that no other test uses: an ephemeral loopback port,
// a fresh ipc path or a fresh inproc name.
inline std::string any_endpoint(const std::string& transport) {
    static std::atomic<unsigned> counter{0};
    if (transport == "tcp") {
        return "tcp://127.0.0.1:*";
    }
    if (transport == "ipc") {
        return "ipc://*";
    }
    if (transport == "raw+tcp") {
        return "raw+tcp://127.0.0.1:*";
    }
    if (transport == "raw+udp") {
        return "raw+udp://127.0.0.1:*";
    }
    return "inproc://zpat-test-" + std::to_string(counter.fetch_add(1));
}

// An ipc endpoint nobody listens on: connecting to it succeeds and messages stay queued.
inline std::string absent_endpoint() {
    static std::atomic<unsigned> counter{0};
    return "ipc:///tmp/zpat-test-absent-" + std::to_string(::getpid()) + "-" +
           std::to_string(counter.fetch_add(1));
}

// Polls `condition` until it holds or `limit` passes. Returns whether it held.
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds limit = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!condition()) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        std::this_thread::yield();
    }
    return true;
}

}  // namespace zpat::testing
