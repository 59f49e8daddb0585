// Majordomo worker: registers the "echo" service with a broker at tcp://localhost:5555 (or
// --endpoint) and answers every request with itself, as in the Guide's mdworker. Run zpat-broker
// first. Heartbeats and reconnection are the library's business: kill and restart the broker,
// and this worker registers again by itself.

#include <iostream>

#include "common/args.hpp"
#include "zpat/zpat.hpp"

int main(int argc, char** argv) {
    const std::string broker = example::flag(argc, argv, "--endpoint", ">tcp://localhost:5555");
    const std::string service = example::flag(argc, argv, "--service", "echo");
    const long count = example::flag(argc, argv, "--count", 0L);  // 0: serve forever

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
