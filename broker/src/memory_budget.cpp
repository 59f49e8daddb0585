#include "memory_budget.hpp"

#include <malloc.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
// The sanitizer runtimes' count of heap bytes in use (their allocator_interface.h, which GCC
// does not install).
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();  // NOLINT
#define ZPAT_SANITIZED_HEAP 1
#endif

namespace zpat::broker::detail {
namespace {

constexpr std::int64_t read_every_ns = 10'000'000;     // 10 ms
constexpr std::int64_t trim_every_ns = 1'000'000'000;  // 1 s

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// Whether `last` is at least `interval` before `now`; if so, takes the turn (one caller wins).
bool take_turn(std::atomic<std::int64_t>& last, std::int64_t now, std::int64_t interval) {
    std::int64_t seen = last.load(std::memory_order_relaxed);
    return (seen < 0 || now - seen >= interval) &&
           last.compare_exchange_strong(seen, now, std::memory_order_relaxed);
}

}  // namespace

std::size_t memory_budget::read_now() {
#ifdef ZPAT_SANITIZED_HEAP
    return __sanitizer_get_current_allocated_bytes();
#else
    // statm: size, resident, ... in pages.
    std::FILE* statm = std::fopen("/proc/self/statm", "r");
    if (statm == nullptr) {
        return 0;
    }
    unsigned long long size = 0;
    unsigned long long resident = 0;
    const int read = std::fscanf(statm, "%llu %llu", &size, &resident);
    std::fclose(statm);
    if (read != 2) {
        return 0;
    }
    return static_cast<std::size_t>(resident) * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
#endif
}

std::size_t memory_budget::in_use() const {
    const std::int64_t now = now_ns();
    if (take_turn(read_at_ns_, now, read_every_ns)) {
        in_use_.store(read_now(), std::memory_order_relaxed);
    }
    return in_use_.load(std::memory_order_relaxed);
}

bool memory_budget::exhausted() {
    if (limit_ == 0 || in_use() < limit_) {
        return false;
    }
    const std::uint64_t refused = refusals_.fetch_add(1, std::memory_order_relaxed) + 1;
    if (take_turn(trimmed_at_ns_, now_ns(), trim_every_ns)) {
        // Once a second at most: say so, and hand freed heap pages back to the system, which
        // the next reading sees.
        spdlog::warn(
            "memory budget: refusing new work: the process holds {} bytes "
            "(max-memory {}); {} refused in all",
            in_use_.load(std::memory_order_relaxed), limit_, refused);
        (void)malloc_trim(0);
        read_at_ns_.store(-1, std::memory_order_relaxed);
    }
    return true;
}

}  // namespace zpat::broker::detail
