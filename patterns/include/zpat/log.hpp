#pragma once
// Where the library's own messages go: why a peer was dropped (what it sent, the limit it broke).
// By default one line on stderr, "zpat <source>: <what>". An application with a logger of its own
// sets a sink once at start; zpat then calls it from its I/O threads, so it must be thread-safe.

#include <functional>
#include <string_view>

namespace zpat {

// `source` names the role ("puller", "publisher"...); `what` is the message, one line.
using log_sink = std::function<void(std::string_view source, std::string_view what)>;

// Sends the library's messages to `sink`; an empty one goes back to stderr. Thread-safe.
void set_log_sink(log_sink sink);

}  // namespace zpat
