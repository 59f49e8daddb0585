#pragma once
// recycler: the storage of messages the user has received, back for the decoders to decode
// into, so that a steady stream of small messages allocates nothing. Bounded in messages and
// bytes; the storage of a large message is freed rather than kept, so that what sits in stock
// stays small whatever passed through. Not thread-safe: its owner guards it.

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <utility>
#include <vector>

#include "zpat/core/message.hpp"

namespace zpat::detail {

class recycler {
  public:
    static constexpr std::size_t max_kept_message = 4096;  // bytes of one message's storage
    static constexpr std::size_t max_messages = 8192;      // enough for a full inbound queue
    static constexpr std::size_t max_bytes = std::size_t{8} << 20;

    // Frees `storage` if it is a large message's (where an allocation costs little beside the
    // copy). Returns the bytes it still holds.
    static std::size_t keep_small(message& storage) {
        const std::size_t bytes = storage.byte_size();
        if (bytes > max_kept_message) {
            storage = message{};
            return 0;
        }
        return bytes;
    }

    // Takes a batch of storage holding `bytes`, if there is room for it.
    void give_back(std::vector<message>&& batch, std::size_t bytes) {
        if (!batch.empty() && count_ + batch.size() <= max_messages &&
            bytes_ + bytes <= max_bytes) {
            count_ += batch.size();
            bytes_ += bytes;
            spare_.emplace_back(std::move(batch), bytes);
        }
    }
    // Takes one message's storage; they go to the stock in batches.
    void give_back(message&& storage) {
        gathered_bytes_ += keep_small(storage);
        gathered_.push_back(std::move(storage));
        if (gathered_.size() == gather) {
            give_back(std::move(gathered_), std::exchange(gathered_bytes_, 0));
            gathered_.clear();
        }
    }

    // Fills `stock` up to `want` messages from what came back.
    void restock(std::vector<message>& stock, std::size_t want) {
        while (stock.size() < want && !spare_.empty()) {
            auto& [storage, bytes] = spare_.back();
            count_ -= storage.size();
            bytes_ -= bytes;
            if (storage.size() > stock.size()) {
                std::swap(stock, storage);  // the smaller of the two is the one moved
            }
            std::move(storage.begin(), storage.end(), std::back_inserter(stock));
            spare_.pop_back();
        }
    }

    std::size_t messages() const noexcept { return count_; }
    std::size_t bytes() const noexcept { return bytes_; }

  private:
    static constexpr std::size_t gather = 64;
    std::vector<std::pair<std::vector<message>, std::size_t>> spare_;
    std::size_t count_ = 0;
    std::size_t bytes_ = 0;
    std::vector<message> gathered_;
    std::size_t gathered_bytes_ = 0;
};

}  // namespace zpat::detail
