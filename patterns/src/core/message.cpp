#include "zpat/core/message.hpp"

#include <stdexcept>

namespace zpat {

message::message(std::initializer_list<std::string_view> frames) {
    frames_.reserve(frames.size());
    for (std::string_view frame : frames) {
        frames_.emplace_back(frame);
    }
}

message& message::push_back(std::string_view frame) {
    frames_.emplace_back(frame);
    return *this;
}

message& message::push_back(std::string&& frame) {
    frames_.push_back(std::move(frame));
    return *this;
}

message& message::push_front(std::string_view frame) {
    frames_.emplace(frames_.begin(), frame);
    return *this;
}

std::string message::pop_front() {
    if (frames_.empty()) {
        throw std::out_of_range("zpat::message::pop_front on a message with no frames");
    }
    std::string first = std::move(frames_.front());
    frames_.erase(frames_.begin());
    return first;
}

}  // namespace zpat
