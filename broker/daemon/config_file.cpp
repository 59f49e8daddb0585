#include "config_file.hpp"

#include <toml++/toml.h>
#include <algorithm>
#include <numeric>
#include <string_view>

namespace zpat::broker::daemon {
namespace {

// Edits (insert, delete, replace) that turn `a` into `b`.
std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    std::iota(row.begin(), row.end(), std::size_t{0});
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            row[j] =
                std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

// The setting closest to `key`, if it is close enough to be what was meant.
std::string nearest(std::string_view key, const std::vector<std::string>& settings) {
    std::string best;
    std::size_t best_distance = 3;  // two edits at most
    for (const std::string& setting : settings) {
        const std::size_t distance = edit_distance(key, setting);
        if (distance < best_distance) {
            best = setting;
            best_distance = distance;
        }
    }
    return best;
}

std::string at(const std::string& path, const toml::source_position& where) {
    return path + ":" + std::to_string(where.line) + ":" + std::to_string(where.column) + ": ";
}

}  // namespace

std::string config_path(int argc, const char* const* argv) {
    constexpr std::string_view flag = "--config";
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == flag && i + 1 < argc) {
            return argv[i + 1];
        }
        if (arg.size() > flag.size() && arg.substr(0, flag.size() + 1) == "--config=") {
            return std::string(arg.substr(flag.size() + 1));
        }
    }
    return {};
}

config_file read_config_file(const std::string& path, const std::vector<std::string>& settings) {
    config_file file;
    toml::table table;
    try {
        table = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
        const toml::source_position where = e.source().begin;
        file.problem =
            (where.line == 0 ? path + ": " : at(path, where)) + std::string(e.description());
        return file;
    }
    for (const auto& [key, value] : table) {
        const std::string name(key.str());
        const toml::source_position where = key.source().begin;
        if (value.is_table()) {
            file.problem = at(path, where) + "[" + name +
                           "]: zpat-broker's settings are keys at the top level, not tables";
            return file;
        }
        if (std::find(settings.begin(), settings.end(), name) == settings.end()) {
            const std::string meant = nearest(name, settings);
            file.problem = at(path, where) + "'" + name + "' is not a setting" +
                           (meant.empty() ? "" : " (did you mean '" + meant + "'?)") +
                           "; zpat-broker --help lists them";
            return file;
        }
        file.keys.emplace(name, where.line);
    }
    return file;
}

std::string locate_in_file(const std::string& error, const std::string& path,
                           const config_file& file, int argc, const char* const* argv) {
    if (error.rfind("--", 0) != 0) {
        return {};
    }
    const std::size_t colon = error.find(": ");
    if (colon == std::string::npos) {
        return {};
    }
    const std::string key = error.substr(2, colon - 2);
    const auto line = file.keys.find(key);
    if (line == file.keys.end()) {
        return {};
    }
    const std::string flag = "--" + key;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == flag || arg.rfind(flag + "=", 0) == 0) {
            return {};  // the command line gave it, and wins over the file
        }
    }
    return path + ":" + std::to_string(line->second) + ": " + key + error.substr(colon);
}

}  // namespace zpat::broker::daemon
