#include "log.hpp"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <stdexcept>
#include <utility>

namespace zpat::broker::daemon {

// spdlog would make missing directories: a misspelt path is an error instead.
std::string log_file_problem(const std::string& file) {
    const std::filesystem::path folder = std::filesystem::path(file).parent_path();
    if (!folder.empty() && !std::filesystem::is_directory(folder)) {
        return "'" + file + "': no directory " + folder.string();
    }
    return {};
}

log_output::log_output(std::string file, spdlog::level::level_enum level)
    : file_(std::move(file)), sink_(std::make_shared<spdlog::sinks::dist_sink_mt>()) {
    if (to_file()) {
        if (const std::string problem = log_file_problem(file_); !problem.empty()) {
            throw std::runtime_error(problem);
        }
        reopen();
    } else {
        sink_->add_sink(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    }
    auto logger = std::make_shared<spdlog::logger>("zpat-broker", sink_);
    logger->set_level(level);
    logger->flush_on(spdlog::level::info);  // a daemon's log is read while it runs
    spdlog::set_default_logger(std::move(logger));
}

void log_output::reopen() {
    if (to_file()) {
        // Appends: the file may be the same one, if nothing moved it.
        sink_->set_sinks({std::make_shared<spdlog::sinks::basic_file_sink_mt>(file_)});
    }
}

}  // namespace zpat::broker::daemon
