#pragma once
// The broker's memory budget (config::max_memory): what the process holds, measured, and
// whether new work must be refused because it has reached the budget.
//
// What is measured is the process's resident memory, as top, the kernel's cgroup limits and the
// OOM killer count it (/proc/self/statm), read at most every 10 ms. In a build with
// AddressSanitizer or ThreadSanitizer, whose shadow memory and quarantine make that figure say
// little, it is the sanitizer's count of heap bytes in use instead. While the budget is reached,
// heap memory freed since is handed back to the system (malloc_trim) at most once a second, so
// that the resident size falls again once the work that took it has drained.
//
// The budget is checked where work is taken on, so the process may pass it by what arrives
// between two readings; what is already held (queued requests, messages at the high-water
// marks) drains as usual.

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace zpat::broker::detail {

class memory_budget {
  public:
    // `limit` in bytes; 0: no budget (exhausted() is always false, and nothing is read).
    explicit memory_budget(std::size_t limit) noexcept : limit_(limit) {}

    // True when new work must be refused now; counts the refusal. Safe from any thread.
    bool exhausted();

    std::size_t limit() const noexcept { return limit_; }
    // The last reading, in bytes (taken now if none was taken yet).
    std::size_t in_use() const;
    std::uint64_t refusals() const noexcept { return refusals_.load(std::memory_order_relaxed); }

  private:
    static std::size_t read_now();

    std::size_t limit_;
    // A reading is a cache: taking one changes nothing a caller can tell apart.
    mutable std::atomic<std::int64_t> read_at_ns_{-1};  // steady clock, when in_use_ was read
    mutable std::atomic<std::size_t> in_use_{0};
    std::atomic<std::int64_t> trimmed_at_ns_{-1};
    std::atomic<std::uint64_t> refusals_{0};
};

}  // namespace zpat::broker::detail
