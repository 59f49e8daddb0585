#pragma once
// idle_watchdog: what `zpat rep --timeout` stops on, a call made once nothing has happened for
// a while.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

namespace zpat::cli {

// Calls `on_idle` once when touch() has not been called for `limit`, until finish().
class idle_watchdog {
  public:
    idle_watchdog(std::optional<std::chrono::milliseconds> limit, std::function<void()> on_idle)
        : on_idle_(std::move(on_idle)) {
        if (limit) {
            thread_ = std::thread([this, limit = *limit] { watch(limit); });
        }
    }
    ~idle_watchdog() { finish(); }
    idle_watchdog(const idle_watchdog&) = delete;
    idle_watchdog& operator=(const idle_watchdog&) = delete;

    void touch() {
        {
            std::lock_guard lock(mutex_);
            last_ = std::chrono::steady_clock::now();
        }
        activity_.notify_one();
    }
    // Stops watching. Returns whether the limit had passed.
    bool finish() {
        {
            std::lock_guard lock(mutex_);
            finished_ = true;
        }
        activity_.notify_one();
        if (thread_.joinable()) {
            thread_.join();
        }
        return fired_;
    }

  private:
    void watch(std::chrono::milliseconds limit) {
        std::unique_lock lock(mutex_);
        while (!finished_) {
            if (activity_.wait_until(lock, last_ + limit) == std::cv_status::timeout &&
                std::chrono::steady_clock::now() >= last_ + limit) {
                fired_ = true;
                on_idle_();
                return;
            }
        }
    }

    std::function<void()> on_idle_;
    std::mutex mutex_;
    std::condition_variable activity_;
    std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
    bool finished_ = false;
    bool fired_ = false;
    std::thread thread_;
};

}  // namespace zpat::cli
