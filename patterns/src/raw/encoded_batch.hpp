#pragma once
// encoded_batch: the whole messages one read of a raw xsubscriber's connection brought, kept as
// the wire encoded them (checked, never decoded), so that a relay to a raw publisher can match
// each topic in place and append the bytes to each subscriber's queue. A batch travels through
// the inbox's queue and recycler as a message of two frames: the bytes, then how many messages
// they hold (4 bytes, native order).

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "wire.hpp"
#include "zpat/core/message.hpp"

namespace zpat::detail::encoded_batch {

// Makes `storage` an empty batch, keeping what storage its first frame has.
inline std::string& reset(message& storage) {
    if (storage.empty()) {
        storage.push_back(std::string_view());
    }
    storage.truncate(2);
    storage[0].clear();
    storage[1].assign(sizeof(std::uint32_t), '\0');
    return storage[0];
}

inline std::string_view bytes(const message& batch) {
    return batch[0];
}

inline std::size_t count(const message& batch) {
    std::uint32_t n = 0;
    std::memcpy(&n, batch[1].data(), sizeof n);
    return n;
}

inline void set_count(message& batch, std::size_t messages) {
    const auto n = static_cast<std::uint32_t>(messages);
    std::memcpy(batch[1].data(), &n, sizeof n);
}

// What compact() took out.
struct removed {
    std::size_t bytes = 0;
    std::size_t messages = 0;
};

// Drops, from offset `from` on, the messages whose first frame (the topic) `unwanted` names,
// keeping the others in order. The batch must hold whole, checked messages.
template <class Unwanted>
removed compact(message& batch, std::size_t from, Unwanted unwanted) {
    std::string& all = batch[0];
    removed gone;
    std::size_t write = from;
    for (std::size_t read = from; read < all.size();) {
        const auto m = wire::encoded_message::at(std::string_view(all).substr(read));
        const std::size_t size = m.bytes.size();
        if (unwanted(m.first_frame)) {
            gone.bytes += size;
            ++gone.messages;
        } else {
            if (write != read) {
                std::memmove(all.data() + write, all.data() + read, size);
            }
            write += size;
        }
        read += size;
    }
    all.resize(write);
    set_count(batch, count(batch) - gone.messages);
    return gone;
}

}  // namespace zpat::detail::encoded_batch
