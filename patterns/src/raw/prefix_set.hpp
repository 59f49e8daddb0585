#pragma once
// prefix_set: the topic prefixes one party subscribed to. Counted, as ZeroMQ's subscriptions
// are (subscribing twice needs two unsubscribes); matched through the topic trie, in the
// length of the topic whatever the number of prefixes; listed, one entry per subscription, for
// telling a publisher. Not thread-safe.

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "zpat/topic_trie.hpp"

namespace zpat::detail {

class prefix_set {
  public:
    void add(std::string_view prefix) {
        trie_.add(prefix, self);
        list_.emplace_back(prefix);
    }
    // Removes one subscription to `prefix`. Returns false when there was none.
    bool remove(std::string_view prefix) {
        if (!trie_.remove(prefix, self)) {
            return false;
        }
        list_.erase(std::find(list_.begin(), list_.end(), prefix));
        return true;
    }
    // Makes the set hold exactly `prefixes`.
    template <class Range>
    void assign(const Range& prefixes) {
        trie_.clear();
        list_.clear();
        for (const auto& prefix : prefixes) {
            add(prefix);
        }
    }
    // True when `prefix` is one of them.
    bool contains(std::string_view prefix) const {
        return std::find(list_.begin(), list_.end(), prefix) != list_.end();
    }
    // True when one of them is a prefix of `topic`.
    bool matches(std::string_view topic) const { return trie_.matches(topic); }
    const std::vector<std::string>& list() const noexcept { return list_; }
    bool empty() const noexcept { return list_.empty(); }

  private:
    static constexpr char self = 0;  // the trie's one peer
    topic_trie<char> trie_;
    std::vector<std::string> list_;
};

}  // namespace zpat::detail
