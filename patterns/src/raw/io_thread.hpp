#pragma once
// The raw backend's I/O threads: a fixed pool for the whole process, as a libzmq context has a
// fixed number of I/O threads, so a process with a hundred raw sockets does not run a hundred
// threads. Each new raw socket is given the next thread in turn, so that a sender and a
// receiver in one process (a broker, a benchmark) do their I/O on different cores. Started by
// the first raw socket; stopped when the process exits.

#include <asio/io_context.hpp>

namespace zpat::detail {

// The I/O context of the next thread in turn.
asio::io_context& raw_io();

}  // namespace zpat::detail
