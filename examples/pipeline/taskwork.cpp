// Task worker: a puller connected to the ventilator at tcp://localhost:5557 (or --endpoint)
// takes tasks; a pusher connected to the sink at tcp://localhost:5558 (or --sink) reports each
// one done. Run as many as you like, as in the Guide's taskwork. Exits after --idle-ms without a
// task (default: never).

#include <chrono>
#include <iostream>
#include <thread>

#include "common/args.hpp"
#include "zpat/zpat.hpp"

int main(int argc, char** argv) {
    example::args args(argc, argv, "taskwork: the Guide's task worker (a puller and a pusher)");
    const std::string endpoint =
        args.text("--endpoint", ">tcp://localhost:5557", "The ventilator to take tasks from");
    const std::string sink_endpoint =
        args.text("--sink", ">tcp://localhost:5558", "The sink to send results to");
    const long idle_ms = args.number(
        "--idle-ms", -1, "Exit after this many milliseconds without a task (-1: never)", -1);
    args.check();

    zpat::puller tasks(example::connect_to(endpoint));
    zpat::pusher results(example::connect_to(sink_endpoint));

    long done = 0;
    while (auto task = tasks.receive(std::chrono::milliseconds(idle_ms))) {
        // The task is a workload in milliseconds: 'do' it, then tell the sink.
        std::this_thread::sleep_for(std::chrono::milliseconds(std::stol(task->front())));
        results.send(zpat::message{"done"});
        ++done;
    }
    std::cout << "taskwork: idle, finished after " << done << " tasks" << std::endl;
}
