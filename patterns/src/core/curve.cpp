// CURVE certificate files: ZPL (ZeroMQ RFC 4) as CZMQ's zcert and pyzmq's zmq.auth write them.
//
//     #   ZeroMQ CURVE **Secret** Certificate
//     metadata
//     curve
//         public-key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
//         secret-key = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"
//
// Only what a certificate needs is read: names at two levels of four-space indents, each
// `name = value` with the value quoted or bare. Read line by line from a bounded file, so no
// input can make the reader recurse or allocate more than the file's size.

#include <sys/stat.h>

#include <fcntl.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include "core/private_file.hpp"
#include "zpat/core/curve.hpp"
#include "zpat/core/error.hpp"

namespace zpat {
namespace {

constexpr std::string_view z85_alphabet =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
constexpr std::uintmax_t largest_certificate = std::uintmax_t{64} * 1024;

std::string quoted(const std::filesystem::path& file) {
    return "'" + file.string() + "'";
}

[[noreturn]] void refuse(const std::filesystem::path& file, std::size_t line,
                         const std::string& what) {
    throw security_error("certificate " + quoted(file) +
                         (line > 0 ? " line " + std::to_string(line) : "") + ": " + what);
}

std::string_view trim(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) {
        return {};
    }
    return text.substr(first, text.find_last_not_of(" \t\r") - first + 1);
}

// The value of `name = value`: inside matching quotes, or the bare text up to a comment.
std::optional<std::string_view> value_of(std::string_view rest) {
    rest = trim(rest);
    if (!rest.empty() && (rest.front() == '"' || rest.front() == '\'')) {
        const auto close = rest.find(rest.front(), 1);
        if (close == std::string_view::npos) {
            return std::nullopt;
        }
        return rest.substr(1, close - 1);
    }
    return trim(rest.substr(0, rest.find(" #")));
}

std::string read_bounded(const std::filesystem::path& file) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(file, ec);
    if (ec) {
        refuse(file, 0, "cannot be read: " + ec.message());
    }
    if (size > largest_certificate) {
        refuse(file, 0, "is " + std::to_string(size) + " bytes; a certificate is at most 64 KiB");
    }
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    if (!in || !(text << in.rdbuf())) {
        refuse(file, 0, std::string("cannot be read: ") + std::strerror(errno));
    }
    return std::move(text).str();
}

// A file holding a secret key must be private to its owner (core/private_file.hpp).
void check_private(const std::filesystem::path& file) {
    if (const std::string problem = detail::private_file_problem(file); !problem.empty()) {
        refuse(file, 0, problem);
    }
}

struct certificate_lines {
    std::optional<std::string> public_key;
    std::optional<std::string> secret_key;
};

void take_key(const std::filesystem::path& file, std::size_t number, std::string_view name,
              std::string_view rest, certificate_lines& found) {
    const auto value = value_of(rest);
    if (!value) {
        refuse(file, number, "the value of " + std::string(name) + " has no closing quote");
    }
    if (!is_curve_key(*value)) {
        refuse(file, number, std::string(name) + " is not a CURVE key (40 characters of Z85)");
    }
    (name == "public-key" ? found.public_key : found.secret_key) = std::string(*value);
}

certificate_lines parse(const std::filesystem::path& file, const std::string& text) {
    certificate_lines found;
    std::istringstream in(text);
    std::string line;
    std::string_view section;  // the level-0 name the indented lines belong to
    std::size_t number = 0;
    while (std::getline(in, line)) {
        ++number;
        const std::string_view content = trim(line);
        if (content.empty() || content.front() == '#') {
            continue;
        }
        const auto indent = line.find_first_not_of(' ');
        if (line[indent] == '\t' || indent % 4 != 0 || indent > 4) {
            refuse(file, number, "is not ZPL: indent with four spaces, two levels at most");
        }
        const auto equals = content.find('=');
        const std::string_view name = trim(content.substr(0, equals));
        if (indent == 0) {
            section = name == "curve" ? "curve" : (name == "metadata" ? "metadata" : "other");
            continue;
        }
        if (section == "curve" && (name == "public-key" || name == "secret-key")) {
            if (equals == std::string_view::npos) {
                refuse(file, number, std::string(name) + " has no '= value'");
            }
            take_key(file, number, name, content.substr(equals + 1), found);
        }
    }
    return found;
}

}  // namespace

bool is_curve_key(std::string_view key) noexcept {
    return key.size() == 40 && std::ranges::all_of(key, [](char c) {
               return c != '\0' && z85_alphabet.find(c) != std::string_view::npos;
           });
}

curve_keys read_curve_certificate(const std::filesystem::path& file) {
    const certificate_lines found = parse(file, read_bounded(file));
    if (!found.public_key) {
        refuse(file, 0, "has no public-key in a 'curve' section; is it a CURVE certificate?");
    }
    if (found.secret_key) {
        check_private(file);
    }
    return {.public_key = *found.public_key, .secret_key = found.secret_key.value_or("")};
}

namespace {

void write_new(const std::filesystem::path& file, const std::string& text, mode_t mode) {
    // O_EXCL: never over a key that exists; the mode is the file's from its first moment.
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        throw security_error("cannot write certificate " + quoted(file) + ": " +
                             std::strerror(errno));
    }
    const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    const int saved = errno;
    if (::close(fd) != 0 || !written) {
        throw security_error("cannot write certificate " + quoted(file) + ": " +
                             std::strerror(written ? errno : saved));
    }
}

std::string certificate_text(const curve_keys& keys, bool with_secret) {
    std::string text = with_secret ? "#   ZeroMQ CURVE **Secret** Certificate\n"
                                     "#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change "
                                     "its permissions.\n"
                                   : "#   ZeroMQ CURVE Public Certificate\n"
                                     "#   Exchange securely, or use a secure mechanism to "
                                     "verify the contents\n"
                                     "#   of this file after exchange. Store public "
                                     "certificates in your home\n"
                                     "#   directory, in the .curve subdirectory.\n";
    text += "#   Written by zpat keygen\n\nmetadata\ncurve\n    public-key = \"" + keys.public_key +
            "\"\n";
    if (with_secret) {
        text += "    secret-key = \"" + keys.secret_key + "\"\n";
    }
    return text;
}

}  // namespace

void write_curve_certificates(const std::filesystem::path& public_file, const curve_keys& keys) {
    if (!is_curve_key(keys.public_key) || !is_curve_key(keys.secret_key)) {
        throw security_error("cannot write certificates " + quoted(public_file) +
                             ": the keys are not CURVE keys (40 characters of Z85)");
    }
    const std::filesystem::path secret_file = public_file.string() + "_secret";
    write_new(secret_file, certificate_text(keys, true), 0600);
    write_new(public_file, certificate_text(keys, false), 0644);
}

std::vector<std::string> read_allowed_keys(const std::filesystem::path& file_or_directory) {
    std::error_code ec;
    if (!std::filesystem::is_directory(file_or_directory, ec)) {
        return {read_curve_certificate(file_or_directory).public_key};
    }
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(file_or_directory, ec)) {
        const std::string name = entry.path().filename().string();
        const bool secret = name.size() >= 7 && name.ends_with("_secret");
        if (entry.is_regular_file() && !secret && !name.starts_with(".")) {
            files.push_back(entry.path());
        }
    }
    if (ec) {
        throw security_error("cannot read the directory " + quoted(file_or_directory) + ": " +
                             ec.message());
    }
    if (files.empty()) {
        throw security_error("the directory " + quoted(file_or_directory) +
                             " holds no public certificate; an empty allow-list lets no "
                             "client in");
    }
    std::ranges::sort(files);  // the same order, and so the same first error, every time
    std::vector<std::string> keys;
    keys.reserve(files.size());
    for (const auto& file : files) {
        keys.push_back(read_curve_certificate(file).public_key);
    }
    return keys;
}

}  // namespace zpat
