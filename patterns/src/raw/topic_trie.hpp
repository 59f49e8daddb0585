#pragma once
// topic_trie: which peers subscribed to a prefix of a topic. Generic over the peer type (the raw
// publisher uses connection pointers; the tests use ints). Subscriptions are counted, as
// ZeroMQ's are: subscribing twice to one prefix needs two unsubscribes. Not thread-safe.

#include <algorithm>
#include <map>
#include <memory>
#include <string_view>
#include <vector>

namespace zpat::detail {

template <class Peer>
class topic_trie {
  public:
    // Adds one subscription of `peer` to `prefix` ("" matches every topic).
    void add(std::string_view prefix, Peer peer) { ++walk_to(prefix).counts[peer]; }

    // Removes one subscription of `peer` to `prefix`. Returns false when it had none.
    bool remove(std::string_view prefix, Peer peer) {
        node* at = &root_;
        for (char c : prefix) {
            auto next = at->children.find(c);
            if (next == at->children.end()) {
                return false;
            }
            at = next->second.get();
        }
        auto found = at->counts.find(peer);
        if (found == at->counts.end()) {
            return false;
        }
        if (--found->second == 0) {
            at->counts.erase(found);
        }
        return true;
    }

    // Removes every subscription of `peer` (it has gone away).
    void remove_peer(Peer peer) { remove_peer_below(root_, peer); }

    // Calls `visit(peer)` once for each peer with a subscription that is a prefix of `topic`,
    // however many of its prefixes match.
    template <class Visit>
    void match(std::string_view topic, Visit&& visit) const {
        matched_.clear();
        const node* at = &root_;
        for (std::size_t depth = 0;; ++depth) {
            for (const auto& [peer, count] : at->counts) {
                matched_.push_back(peer);
            }
            if (depth == topic.size()) {
                break;
            }
            auto next = at->children.find(topic[depth]);
            if (next == at->children.end()) {
                break;
            }
            at = next->second.get();
        }
        std::sort(matched_.begin(), matched_.end());
        matched_.erase(std::unique(matched_.begin(), matched_.end()), matched_.end());
        for (const Peer& peer : matched_) {
            visit(peer);
        }
    }

  private:
    struct node {
        std::map<char, std::unique_ptr<node>> children;
        std::map<Peer, int> counts;
    };

    node& walk_to(std::string_view prefix) {
        node* at = &root_;
        for (char c : prefix) {
            auto& child = at->children[c];
            if (!child) {
                child = std::make_unique<node>();
            }
            at = child.get();
        }
        return *at;
    }

    // Returns true when `n` holds nothing any more, so its parent can drop it.
    static bool remove_peer_below(node& n, const Peer& peer) {
        n.counts.erase(peer);
        for (auto it = n.children.begin(); it != n.children.end();) {
            it = remove_peer_below(*it->second, peer) ? n.children.erase(it) : std::next(it);
        }
        return n.counts.empty() && n.children.empty();
    }

    node root_;
    mutable std::vector<Peer> matched_;  // reused by match(), so matching does not allocate
};

}  // namespace zpat::detail
