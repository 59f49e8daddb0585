#pragma once
// encoded_batch: the whole messages one read of a raw xsubscriber's connection brought, kept as
// the wire encoded them (checked, never decoded), so that a relay to a raw publisher can match
// each topic in place and append the bytes to each subscriber's queue. A batch travels through
// the inbox's queue and recycler as a message of two frames: the storage the bytes were read
// into, and a header saying how many of its bytes hold how many messages (native order). The
// storage may be larger than the bytes it holds, and what follows them is unspecified: a read
// lands straight in it, with no zero-filling and no copy.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "wire.hpp"
#include "zpat/core/message.hpp"

namespace zpat::detail::encoded_batch {

namespace detail {

struct header {
    std::uint64_t bytes = 0;
    std::uint32_t messages = 0;
};

inline header read(const message& batch) {
    header h;
    std::memcpy(&h.bytes, batch[1].data(), sizeof h.bytes);
    std::memcpy(&h.messages, batch[1].data() + sizeof h.bytes, sizeof h.messages);
    return h;
}

}  // namespace detail

// Makes `storage` an empty batch and returns its storage frame, as large as it was.
inline std::string& reset(message& storage) {
    if (storage.empty()) {
        storage.push_back(std::string_view());
    }
    storage.truncate(2);
    storage[1].assign(sizeof(std::uint64_t) + sizeof(std::uint32_t), '\0');
    return storage[0];
}

inline std::string_view bytes(const message& batch) {
    return std::string_view(batch[0]).substr(0, detail::read(batch).bytes);
}

inline std::size_t count(const message& batch) {
    return detail::read(batch).messages;
}

// The batch holds `messages` messages, in the first `bytes` bytes of its storage.
inline void set(message& batch, std::size_t bytes, std::size_t messages) {
    const auto b = static_cast<std::uint64_t>(bytes);
    const auto n = static_cast<std::uint32_t>(messages);
    std::memcpy(batch[1].data(), &b, sizeof b);
    std::memcpy(batch[1].data() + sizeof b, &n, sizeof n);
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
    const std::size_t end = bytes(batch).size();
    removed gone;
    std::size_t write = from;
    for (std::size_t read = from; read < end;) {
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
    set(batch, write, count(batch) - gone.messages);
    return gone;
}

}  // namespace zpat::detail::encoded_batch
