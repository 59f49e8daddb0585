#pragma once
// The config file, read strictly before CLI11 takes its values from it. CLI11's own reader
// accepts a truncated array as its first element and reports a misspelt key as "INI was not
// able to parse"; this reads the file with a TOML parser and names the file, line and column
// of a mistake, and the setting a misspelt key probably meant.

#include <map>
#include <string>
#include <vector>

namespace zpat::broker::daemon {

// The file --config names in argv ("--config FILE" or "--config=FILE"), or "" for none.
std::string config_path(int argc, const char* const* argv);

struct config_file {
    std::string problem;                   // "FILE:LINE:COLUMN: what is wrong", or "" if sound
    std::map<std::string, unsigned> keys;  // each key in the file, with its line
};

// Reads `path` as TOML whose keys must be among `settings` (the long flags, without dashes), at
// the top level: no tables.
config_file read_config_file(const std::string& path, const std::vector<std::string>& settings);
// The same for `text`, as read from `path` (at most 1 MiB).
config_file read_config_text(const std::string& text, const std::string& path,
                             const std::vector<std::string>& settings);

// A CLI11 error about a setting (its message begins "--KEY: ") that came from the file rather
// than the command line, restated as "FILE:LINE: KEY: ..."; otherwise "".
std::string locate_in_file(const std::string& error, const std::string& path,
                           const config_file& file, int argc, const char* const* argv);

}  // namespace zpat::broker::daemon
