// Sends one message through an installed zpat and checks that it arrives.
#include <zpat/zpat.hpp>

int main() {
    using namespace std::chrono_literals;
    zpat::puller sink("@inproc://consumer");
    zpat::pusher source("inproc://consumer");
    source.send(zpat::message{"installed", zpat::pack(42)});
    auto got = sink.receive(5s);
    return got && zpat::unpack<int>(got->at(1)) == 42 ? 0 : 1;
}
