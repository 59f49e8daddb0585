// Task ventilator: a pusher bound to tcp://*:5557 (or --endpoint) hands tasks to workers
// round-robin; a second pusher tells the sink at tcp://localhost:5558 (or --sink) that a batch
// starts. As in the Guide's taskvent, each task is a workload in milliseconds.

#include <chrono>
#include <iostream>
#include <random>
#include <thread>

#include "common/args.hpp"
#include "zpat/zpat.hpp"

int main(int argc, char** argv) {
    example::args args(argc, argv, "taskvent: the Guide's task ventilator (a pusher)");
    using namespace std::chrono_literals;
    const std::string endpoint =
        args.text("--endpoint", "@tcp://*:5557", "Where workers connect for tasks");
    const std::string sink_endpoint =
        args.text("--sink", ">tcp://localhost:5558", "The sink, told when the batch starts");
    const long tasks = args.number("--tasks", 100, "Tasks in the batch", 1);
    const long settle_ms =
        args.number("--settle-ms", 500, "Milliseconds to wait for workers to connect first", 0);
    // --seed repeats a batch exactly, so runs with different numbers of workers compare.
    const long seed =
        args.number("--seed", 0, "Seed of the random task sizes (0: from the clock)", 0);
    args.check();

    // Sends wait at most 10 s for a worker to take them, rather than forever.
    zpat::pusher workers(example::bind_to(endpoint), {.send_timeout = 10s});
    zpat::pusher sink(example::connect_to(sink_endpoint), {.send_timeout = 10s});

    // PUSH hands tasks only to workers already connected: the first to connect would get them
    // all. The Guide waits for you to press Enter; we give the workers a moment to connect.
    std::cout << "taskvent: waiting " << settle_ms << " ms for workers to connect to "
              << workers.endpoints().front() << std::endl;
    std::this_thread::sleep_for(std::chrono::milliseconds(settle_ms));

    // The first message tells the sink to start its clock.
    sink.send(zpat::message{"0"});

    std::mt19937 random(seed != 0 ? static_cast<unsigned>(seed) : std::random_device{}());
    std::uniform_int_distribution<int> workload(1, 20);
    long total_ms = 0;
    for (long n = 0; n < tasks; ++n) {
        const int ms = workload(random);
        total_ms += ms;
        if (!workers.send(zpat::message{std::to_string(ms)})) {
            std::cerr << "taskvent: no worker took a task for 10 s; are workers running?"
                      << std::endl;
            return 1;
        }
    }
    std::cout << "taskvent: sent " << tasks << " tasks, " << total_ms << " ms of work in all"
              << std::endl;
}
