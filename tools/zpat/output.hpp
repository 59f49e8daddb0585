#pragma once
// How the zpat tool prints messages: readable text, raw payload bytes, or one JSON object a line.

#include <cstdio>
#include <string>

#include "verbs.hpp"
#include "zpat/core/message.hpp"

namespace zpat::cli {

// Writes `msg` to stdout as one line and flushes, so a pipe sees each message as it arrives.
// With `has_topic`, frame 0 is shown as the topic.
void print_message(const message& msg, output_format format, bool has_topic);

// Frames joined by single spaces, non-printable bytes shown as \xNN.
std::string readable(const message& msg, std::size_t first_frame = 0);

}  // namespace zpat::cli
