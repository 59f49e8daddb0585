// libFuzzer target for zpat-broker's config-file reader (broker/daemon/config_file.cpp): any
// bytes in the file given to --config. For any file:
// - reading never crashes, hangs or throws: a file that is not sound TOML, or has a key that is
//   not a setting, or a table, gives a problem that begins with the file's path;
// - a file read without a problem has only keys among the settings, each with its line.
// The text is given as read from a file (read_config_text), so that each input costs no disk.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "config_file.hpp"
#include "fuzz_check.hpp"

namespace {

const std::vector<std::string> settings{"forwarder-frontend", "forwarder-backend", "http",
                                        "max-message-size",   "high-water-mark",   "verbose"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    const std::string path = "fuzzed.toml";
    zpat::broker::daemon::config_file file;
    try {
        file = zpat::broker::daemon::read_config_text(text, path, settings);
    } catch (...) {
        FUZZ_CHECK(false);
    }
    if (!file.problem.empty()) {
        FUZZ_CHECK(file.problem.rfind(path, 0) == 0);
        return 0;
    }
    for (const auto& [key, line] : file.keys) {
        FUZZ_CHECK(std::find(settings.begin(), settings.end(), key) != settings.end());
        FUZZ_CHECK(line >= 1);
    }
    return 0;
}
