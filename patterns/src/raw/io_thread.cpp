#include "io_thread.hpp"

#include <asio/executor_work_guard.hpp>
#include <thread>

namespace zpat::detail {
namespace {

// One, measured against two taken in turn (a sender's socket on one, a receiver's on the
// other): with two, every read and write of a loopback stream wakes the other thread, which
// cost 64 KiB messages a third more CPU each; one thread serves both sides between wake-ups.
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
    static io_thread thread;
    return thread.io;
}

}  // namespace zpat::detail
