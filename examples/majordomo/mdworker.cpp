// Majordomo worker: registers the "echo" service with a broker at tcp://localhost:5555 (or
// --endpoint) and answers every request with itself, as in the Guide's mdworker. Run zpat-broker
// first. Heartbeats and reconnection are the library's business: kill and restart the broker,
// and this worker registers again by itself.

#include <iostream>

#include "common/args.hpp"
#include "zpat/zpat.hpp"

int main(int argc, char** argv) {
    example::args args(argc, argv, "mdworker: serves the echo service behind a Majordomo broker");
    const std::string broker =
        args.text("--endpoint", ">tcp://localhost:5555", "The Majordomo broker");
    const std::string service = args.text("--service", "echo", "The service to serve");
    const long count = args.number("--count", 0, "Requests to serve, then exit (0: never)", 0);
    args.check();

    zpat::service_worker worker(example::connect_to(broker), service);
    std::cout << "mdworker: serving '" << service << "'" << std::endl;
    for (long n = 0; count == 0 || n < count; ++n) {
        auto request = worker.receive();
        if (!request) {
            break;
        }
        std::cout << "mdworker: request " << n << ": " << request->front() << std::endl;
        worker.reply(*request);
    }
}
