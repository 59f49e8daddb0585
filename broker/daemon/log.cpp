#include "log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <array>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "systemd.hpp"

namespace zpat::broker::daemon {
namespace {

// One JSON object per event. Bytes that are not UTF-8 (a peer's service name, say) become
// U+FFFD rather than breaking the line.
class json_formatter final : public spdlog::formatter {
  public:
    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        const auto since_epoch = msg.time.time_since_epoch();
        const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
        const auto micros =
            std::chrono::duration_cast<std::chrono::microseconds>(since_epoch - seconds);
        const std::time_t t = seconds.count();
        std::tm utc{};
        ::gmtime_r(&t, &utc);
        std::array<char, 32> stamp{};
        const std::size_t length =
            std::strftime(stamp.data(), stamp.size(), "%Y-%m-%dT%H:%M:%S", &utc);
        const nlohmann::ordered_json event = {
            {"time",
             fmt::format("{}.{:06}Z", std::string_view(stamp.data(), length), micros.count())},
            {"level", std::string(spdlog::level::to_string_view(msg.level).data(),
                                  spdlog::level::to_string_view(msg.level).size())},
            {"logger", std::string(msg.logger_name.data(), msg.logger_name.size())},
            {"message", std::string(msg.payload.data(), msg.payload.size())},
        };
        const std::string line =
            event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        dest.append(line.data(), line.data() + line.size());
        dest.push_back('\n');
    }
    std::unique_ptr<spdlog::formatter> clone() const override {
        return std::make_unique<json_formatter>();
    }
};

// "<N>" in front of each line: the journal reads it as the syslog priority (sd-daemon(3)).
class journal_priority final : public spdlog::custom_flag_formatter {
  public:
    void format(const spdlog::details::log_msg& msg, const std::tm& /*time*/,
                spdlog::memory_buf_t& dest) override {
        // trace, debug, info, warn, err, critical, off -> debug, debug, info, warning, err, crit
        static constexpr std::array<char, 7> priority{'7', '7', '6', '4', '3', '2', '6'};
        const auto level = static_cast<std::size_t>(msg.level);
        dest.push_back('<');
        dest.push_back(priority.at(level < priority.size() ? level : 6));
        dest.push_back('>');
    }
    std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<journal_priority>();
    }
};

std::unique_ptr<spdlog::formatter> formatter_for(log_format format, bool to_file) {
    if (format == log_format::json) {
        return std::make_unique<json_formatter>();
    }
    auto text = std::make_unique<spdlog::pattern_formatter>();
    if (!to_file && systemd::stderr_is_journal()) {
        // The journal stamps each line itself and keeps the priority apart.
        text->add_flag<journal_priority>('*').set_pattern("%*%v");
    } else {
        text->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%n] [%^%l%$] %v");  // spdlog's default
    }
    return text;
}

}  // namespace

// spdlog would make missing directories: a misspelt path is an error instead.
std::string log_file_problem(const std::string& file) {
    const std::filesystem::path folder = std::filesystem::path(file).parent_path();
    if (!folder.empty() && !std::filesystem::is_directory(folder)) {
        return "'" + file + "': no directory " + folder.string();
    }
    return {};
}

log_output::log_output(std::string file, spdlog::level::level_enum level, log_format format)
    : file_(std::move(file)),
      formatter_(formatter_for(format, !file_.empty())),
      sink_(std::make_shared<spdlog::sinks::dist_sink_mt>()) {
    if (to_file()) {
        if (const std::string problem = log_file_problem(file_); !problem.empty()) {
            throw std::runtime_error(problem);
        }
        reopen();
    } else {
        auto err = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
        err->set_formatter(formatter_->clone());
        sink_->add_sink(std::move(err));
    }
    auto logger = std::make_shared<spdlog::logger>("zpat-broker", sink_);
    logger->set_level(level);
    logger->flush_on(spdlog::level::info);  // a daemon's log is read while it runs
    spdlog::set_default_logger(std::move(logger));
}

void log_output::reopen() {
    if (to_file()) {
        // Appends: the file may be the same one, if nothing moved it.
        auto file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(file_);
        file->set_formatter(formatter_->clone());
        sink_->set_sinks({std::move(file)});
    }
}

}  // namespace zpat::broker::daemon
