#pragma once
// What zpat::relay reports of a step, and how it shows the frames it moves: the watch is called
// once per frame, in order, with the frame's index in its message, its bytes (valid during the
// call only) and whether it is the message's last. The broker's forwarder reads topics and fills
// its last-value cache this way, without copying the messages it does not keep.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

namespace zpat {

using frame_watch = std::function<void(std::size_t index, std::string_view frame, bool last)>;

// Which frames a watch is shown: all of them, or only each message's first (its topic, in
// pub-sub), which costs less where the relay would otherwise have to look at the rest.
enum class watched_frames { all, first };

struct relayed {
    enum outcome {
        moved,  // whole messages went from one role to the other
        idle,   // no message was waiting
        held,   // the destination had no room within its send_timeout; the relay holds the
                // message and the next step sends it first
    };
    outcome what = idle;
    std::uint64_t bytes = 0;     // the messages' bytes, all frames (moved only)
    std::uint64_t messages = 0;  // how many moved: one, or a batch where the backend moves
                                 // them together (ZeroMQ to ZeroMQ, raw to raw)
};

}  // namespace zpat
