#include "io_thread.hpp"

#include <array>
#include <asio/executor_work_guard.hpp>
#include <atomic>
#include <thread>

namespace zpat::detail {
namespace {

// Two: most machines zpat runs on have at least two cores, and one sender and one receiver
// then keep both busy; more threads than that only add context switches on small machines.
constexpr std::size_t pool_size = 2;

struct io_thread {
    asio::io_context io{1};  // run by one thread
    asio::executor_work_guard<asio::io_context::executor_type> work{asio::make_work_guard(io)};
    std::thread thread{[this] { io.run(); }};

    io_thread() = default;
    io_thread(const io_thread&) = delete;
    io_thread& operator=(const io_thread&) = delete;
    ~io_thread() {
        io.stop();
        thread.join();
    }
};

}  // namespace

asio::io_context& raw_io() {
    static std::array<io_thread, pool_size> pool;
    static std::atomic<std::size_t> next{0};
    return pool[next.fetch_add(1) % pool_size].io;
}

}  // namespace zpat::detail
