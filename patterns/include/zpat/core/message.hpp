#pragma once
// zpat::message: an ordered list of frames, each an opaque byte string.
//
// Frames stay raw bytes so that topics, service names and envelopes can be forwarded without
// decoding. Typed bodies are opt-in: see zpat/core/codec.hpp. Not thread-safe; move it between
// threads rather than sharing it.

#include <cstddef>
#include <cstring>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace zpat {

class message {
  public:
    message() = default;
    // A message whose frames are copies of `frames`, in order.
    message(std::initializer_list<std::string_view> frames);

    // Number of frames.
    std::size_t size() const noexcept { return frames_.size(); }
    bool empty() const noexcept { return frames_.empty(); }
    // Sum of the frame sizes in bytes: what options::max_message_size limits. Inline: every
    // send checks it.
    std::size_t byte_size() const noexcept {
        std::size_t bytes = 0;
        for (const std::string& frame : frames_) {
            bytes += frame.size();
        }
        return bytes;
    }

    // Frame `index`. Throws: std::out_of_range when index >= size().
    const std::string& at(std::size_t index) const { return frames_.at(index); }
    std::string& at(std::size_t index) { return frames_.at(index); }
    const std::string& operator[](std::size_t index) const noexcept { return frames_[index]; }
    std::string& operator[](std::size_t index) noexcept { return frames_[index]; }
    const std::string& front() const { return at(0); }
    const std::string& back() const { return at(size() - 1); }

    // Appends a copy of `frame` (or takes `frame` by move).
    message& push_back(std::string_view frame);
    message& push_back(std::string&& frame);
    message& push_back(const char* frame) { return push_back(std::string_view(frame)); }
    // Inserts `frame` before the first frame (for example a topic or an envelope).
    message& push_front(std::string_view frame);
    // Removes and returns the first frame. Throws: std::out_of_range on an empty message.
    std::string pop_front();
    void clear() noexcept { frames_.clear(); }

    // Frame `index` is overwritten with `bytes`, reusing its storage; frames past the current
    // count are appended. Used by backends to receive without allocating in steady state.
    void assign_frame(std::size_t index, std::string_view bytes) {
        if (index < frames_.size()) {
            // Within capacity this is a length update and a copy: the hot path of a receive loop.
            std::string& frame = frames_[index];
            frame.resize(bytes.size());
            std::memcpy(frame.data(), bytes.data(), bytes.size());
        } else {
            frames_.emplace_back(bytes);
        }
    }
    // Drops frames from `count` on, keeping the storage of the ones kept.
    void truncate(std::size_t count) { frames_.resize(count); }

    auto begin() const noexcept { return frames_.begin(); }
    auto end() const noexcept { return frames_.end(); }

    friend bool operator==(const message&, const message&) = default;

  private:
    std::vector<std::string> frames_;
};

}  // namespace zpat
