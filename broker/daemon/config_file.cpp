#include "config_file.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
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

// A config file is a few lines; this much is a mistake (or /dev/zero), not a config.
constexpr std::size_t largest_file = std::size_t{1} << 20;

// The file's text, or a problem: it cannot be read, or it is too large.
std::string read_text(const std::string& path, std::string& problem) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        problem = path + ": cannot be read (" + std::strerror(errno) + ")";
        return {};
    }
    std::string text(largest_file + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (text.size() > largest_file) {
        problem = path + ": is larger than " + std::to_string(largest_file >> 20) +
                  " MiB; a config file is a few lines";
        return {};
    }
    return text;
}

// What toml++ must not be given, as a problem, or "". Debian's toml++ (3.3) reaches undefined
// behaviour on some input (upstream issues 190 and 295, pull request 301): non-ASCII bytes,
// some control characters and malformed table headers. None of these is a setting: TOML forbids
// control characters other than tabs and line ends, every setting is ASCII (other characters
// can be written in strings as \uXXXX escapes), and tables are refused anyway.
std::string screen(const std::string& text, const std::string& path) {
    const auto odd = std::find_if(text.begin(), text.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return (byte < 0x20 && c != '\t' && c != '\n' && c != '\r') || byte >= 0x7f;
    });
    if (odd != text.end()) {
        const auto offset = static_cast<std::size_t>(odd - text.begin());
        const std::size_t line_start = text.rfind('\n', offset) + 1;  // npos + 1 == 0
        const auto line = 1 + std::count(text.begin(), odd, '\n');
        char byte[8];
        std::snprintf(byte, sizeof byte, "0x%02x", static_cast<unsigned char>(*odd));
        return path + ":" + std::to_string(line) + ":" + std::to_string(offset - line_start + 1) +
               ": byte " + byte +
               " is not printable ASCII; write other characters in strings as \\uXXXX escapes";
    }
    for (std::size_t line = 1, start = 0; start < text.size(); ++line) {
        const std::size_t end = std::min(text.find('\n', start), text.size());
        const std::size_t first = text.find_first_not_of(" \t", start);
        if (first < end && text[first] == '[') {
            const std::size_t close = std::min(text.find(']', first), end - 1);
            return path + ":" + std::to_string(line) + ":" + std::to_string(first - start + 2) +
                   ": " + text.substr(first, std::min<std::size_t>(close - first + 1, 40)) +
                   ": zpat-broker's settings are keys at the top level, not tables";
        }
        start = end + 1;
    }
    return {};
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
    const std::string text = read_text(path, file.problem);
    return file.problem.empty() ? read_config_text(text, path, settings) : file;
}

config_file read_config_text(const std::string& text, const std::string& path,
                             const std::vector<std::string>& settings) {
    config_file file;
    file.problem = screen(text, path);
    if (!file.problem.empty()) {
        return file;
    }
    toml::table table;
    try {
        table = toml::parse(text, path);
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
