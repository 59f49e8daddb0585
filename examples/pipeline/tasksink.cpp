// Task sink: a puller bound to tcp://*:5558 (or --endpoint) collects the results of a batch of
// --tasks tasks (default 100) from all workers and prints how long the batch took, as in the
// Guide's tasksink. Add workers and watch the time fall.

#include <chrono>
#include <iostream>

#include "common/args.hpp"
#include "zpat/zpat.hpp"

int main(int argc, char** argv) {
    example::args args(argc, argv, "tasksink: the Guide's task sink (a puller)");
    using namespace std::chrono_literals;
    const std::string endpoint =
        args.text("--endpoint", "@tcp://*:5558", "Where workers send their results");
    const long tasks = args.number("--tasks", 100, "Results to collect", 1);
    args.check();

    zpat::puller results(example::bind_to(endpoint));
    std::cout << "tasksink: collecting on " << results.endpoints().front() << std::endl;

    // Wait for the ventilator's start-of-batch signal.
    if (!results.receive(60s)) {
        std::cerr << "tasksink: no batch started within 60 s" << std::endl;
        return 1;
    }
    const auto start = std::chrono::steady_clock::now();

    for (long n = 0; n < tasks; ++n) {
        if (!results.receive(30s)) {
            std::cerr << "tasksink: only " << n << " of " << tasks << " results arrived"
                      << std::endl;
            return 1;
        }
    }
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    std::cout << "tasksink: " << tasks << " results in " << elapsed.count() << " ms" << std::endl;
}
