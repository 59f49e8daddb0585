#pragma once
// The examples' command lines, on CLI11 (compiled once, in args.cpp). Each program asks for
// its flags where it needs their values, then calls check():
//
//   example::args args(argc, argv, "hwclient: the Guide's hello-world client");
//   const std::string endpoint = args.text("--endpoint", ">tcp://localhost:5555", "Where ...");
//   const long count = args.number("--count", 10, "Requests to send", 1);
//   args.check();
//
// A bad value (a count of "ten", or below its least) exits 2 naming the flag as soon as it is
// asked for; check() prints the usage for --help and zpat's version for --version (exit 0),
// and refuses anything on the command line that no flag asked for (exit 2).

#include <limits>
#include <memory>
#include <string>
#include <string_view>

namespace example {

class args {
  public:
    args(int argc, char** argv, std::string about);
    ~args();
    args(const args&) = delete;
    args& operator=(const args&) = delete;

    // The value of `name` ("--endpoint"), or `fallback` when it is not given.
    std::string text(std::string_view name, std::string fallback, std::string_view help);
    // A whole number, at least `least`.
    long number(std::string_view name, long fallback, std::string_view help,
                long least = std::numeric_limits<long>::min());
    // See above. Returns only when the command line holds nothing but the flags asked for.
    void check();

  private:
    struct state;
    std::unique_ptr<state> state_;
};

// The side an example's role takes is part of its lesson, so an endpoint given without '@' or
// '>' gets the example's side, not the role's default.
inline std::string bind_to(const std::string& endpoint) {
    return endpoint.empty() || endpoint[0] == '@' || endpoint[0] == '>' ? endpoint : "@" + endpoint;
}
inline std::string connect_to(const std::string& endpoint) {
    return endpoint.empty() || endpoint[0] == '@' || endpoint[0] == '>' ? endpoint : ">" + endpoint;
}

}  // namespace example
