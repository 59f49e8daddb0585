#include "io_thread.hpp"

#include <openssl/ssl.h>

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
    // OpenSSL (raw+tls) keeps state per thread, which the handler it registers for the exit
    // frees. Started first, OpenSSL ends after the I/O thread has been joined at exit, so that
    // the thread's state is freed with it rather than lost.
    static const bool openssl_first = OPENSSL_init_ssl(0, nullptr) == 1;
    static io_thread thread;
    (void)openssl_first;
    return thread.io;
}

}  // namespace zpat::detail
