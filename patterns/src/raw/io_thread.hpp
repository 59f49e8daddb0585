#pragma once
// The raw backend's I/O thread: one for the whole process, as a libzmq context has one I/O
// thread by default, so a process with a hundred raw sockets does not run a hundred threads.
// Started by the first raw socket; stopped when the process exits.

#include <asio/io_context.hpp>

namespace zpat::detail {

// The I/O context every raw socket's connections run on.
asio::io_context& raw_io();

}  // namespace zpat::detail
