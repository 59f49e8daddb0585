#pragma once
// The daemon's log: stderr, or a file that SIGHUP reopens (so that logrotate can move it away),
// at a level chosen by --log-level or -v, as text or as one JSON object per line.

#include <spdlog/formatter.h>
#include <spdlog/sinks/dist_sink.h>

#include <memory>
#include <string>

namespace zpat::broker::daemon {

// Why `file` cannot be a log file (its directory is missing), or an empty string.
std::string log_file_problem(const std::string& file);

enum class log_format {
    text,  // "[time] [zpat-broker] [level] message"; under systemd "<priority>message"
    json,  // {"time":"...","level":"info","message":"..."}, one per line, for log collectors
};

class log_output {
  public:
    // Becomes spdlog's default logger. `file` empty: stderr. Throws: std::runtime_error (or
    // spdlog::spdlog_ex) naming the file when it cannot be opened.
    log_output(std::string file, spdlog::level::level_enum level, log_format format);
    // Opens the file again under its name; stderr stays as it is. Safe while other threads
    // log: the sink is swapped under the sink's own lock.
    void reopen();
    bool to_file() const noexcept { return !file_.empty(); }

  private:
    std::string file_;
    std::unique_ptr<spdlog::formatter> formatter_;  // each sink gets a copy
    std::shared_ptr<spdlog::sinks::dist_sink_mt> sink_;
};

}  // namespace zpat::broker::daemon
