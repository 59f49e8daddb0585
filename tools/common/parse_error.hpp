#pragma once
// Ends a program on a CLI11 parse error as app.exit() does (--help and --version print and
// succeed), with one fix: CLI11 2.3 names unexpected arguments last first ("z y x" for
// "x y z"); they are named here as typed. Returns the exit status: 0 after --help, 2 otherwise.

#include <CLI/CLI.hpp>
#include <iostream>
#include <string>

namespace zpat::cli {

inline int exit_on(CLI::App& app, const CLI::ParseError& e) {
    if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) {
        std::string extras;
        for (const std::string& arg : app.remaining(true)) {
            extras += (extras.empty() ? "" : " ") + arg;
        }
        std::cerr << "The following arguments were not expected: " << extras << "\n"
                  << "Run with --help for more information.\n";
        return 2;
    }
    return app.exit(e) == 0 ? 0 : 2;
}

}  // namespace zpat::cli
