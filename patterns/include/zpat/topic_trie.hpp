#pragma once
// topic_trie: which peers subscribed to a prefix of a topic. Generic over the peer type (the raw
// publisher uses connection pointers, a subscriber's own filter a single char, and the broker's
// forwarder its per-prefix counters). Public for devices of one's own that match topics the way
// the publishers do, at a cost in the length of the topic whatever the number of prefixes.
// Subscriptions are counted, as ZeroMQ's are: subscribing twice to one prefix needs two
// unsubscribes. Not thread-safe.
//
// A radix tree: an edge holds a run of bytes, not one byte, so a prefix of n bytes costs about
// n bytes, not n nodes, and a hostile subscriber cannot make the publisher allocate much more
// than it sent. Nothing recurses in the depth of the tree (which a peer controls): every walk is
// a loop, and teardown uses a work list. An unsubscribe prunes what its subscribe added.

#include <algorithm>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace zpat {

template <class Peer>
class topic_trie {
  public:
    topic_trie() = default;
    ~topic_trie() { clear(); }
    topic_trie(const topic_trie&) = delete;
    topic_trie& operator=(const topic_trie&) = delete;

    // Adds one subscription of `peer` to `prefix` ("" matches every topic).
    void add(std::string_view prefix, const Peer& peer) {
        node* at = &root_;
        while (!prefix.empty()) {
            auto child = child_of(*at, prefix.front());
            if (child == at->children.end()) {
                at = insert_child(*at, prefix);
                break;
            }
            const std::size_t common = common_length((*child)->label, prefix);
            if (common < (*child)->label.size()) {
                split(*child, common);
            }
            at = child->get();
            prefix.remove_prefix(common);
        }
        auto counted = find_count(*at, peer);
        if (counted == at->counts.end()) {
            at->counts.emplace_back(peer, 1);
        } else {
            ++counted->second;
        }
    }

    // Removes one subscription of `peer` to `prefix`, freeing the nodes it alone needed.
    // Returns false when it had none.
    bool remove(std::string_view prefix, const Peer& peer) {
        std::vector<node*> path{&root_};
        while (!prefix.empty()) {
            auto child = child_of(*path.back(), prefix.front());
            if (child == path.back()->children.end() || !prefix.starts_with((*child)->label)) {
                return false;
            }
            prefix.remove_prefix((*child)->label.size());
            path.push_back(child->get());
        }
        node& at = *path.back();
        auto counted = find_count(at, peer);
        if (counted == at.counts.end()) {
            return false;
        }
        if (--counted->second == 0) {
            at.counts.erase(counted);
        }
        for (std::size_t i = path.size() - 1; i > 0; --i) {
            tidy(*path[i - 1], path[i]);
        }
        return true;
    }

    // Removes every subscription of `peer` (it has gone away), freeing what no one else needs.
    void remove_peer(const Peer& peer) {
        // Parents come before their children in `order`; tidying it backwards visits children
        // first, so a whole emptied branch goes in one pass.
        std::vector<node*> order{&root_};
        for (std::size_t i = 0; i < order.size(); ++i) {
            node& n = *order[i];
            if (auto counted = find_count(n, peer); counted != n.counts.end()) {
                n.counts.erase(counted);
            }
            for (const auto& child : n.children) {
                order.push_back(child.get());
            }
        }
        for (std::size_t i = order.size(); i-- > 0;) {
            node& n = *order[i];
            for (std::size_t c = n.children.size(); c-- > 0;) {
                tidy(n, n.children[c].get());
            }
        }
    }

    // Calls `visit(peer)` once for each peer with a subscription that is a prefix of `topic`,
    // however many of its prefixes match.
    template <class Visit>
    void match(std::string_view topic, Visit&& visit) const {
        matched_.clear();
        for_each_prefix(topic, [this](const Peer& peer) { matched_.push_back(peer); });
        if (matched_.size() > 1) {
            std::sort(matched_.begin(), matched_.end());
            matched_.erase(std::unique(matched_.begin(), matched_.end()), matched_.end());
        }
        for (const Peer& peer : matched_) {
            visit(peer);
        }
    }

    // Calls `visit(peer)` for each subscription held to a prefix of `topic`, once per prefix: a
    // peer holding two of them is visited twice, where match() visits it once. Cheaper, for a
    // table whose peers stand for the prefixes themselves (the broker's per-prefix counters).
    template <class Visit>
    void for_each_prefix(std::string_view topic, Visit&& visit) const {
        walk(topic, [&](const node& at) {
            for (const auto& [peer, count] : at.counts) {
                visit(peer);
            }
            return false;
        });
    }

    // True when some subscription is a prefix of `topic`.
    bool matches(std::string_view topic) const {
        return walk(topic, [](const node& at) { return !at.counts.empty(); });
    }

    bool empty() const noexcept { return root_.counts.empty() && root_.children.empty(); }

    // What the tree holds, for tests and counters: nodes below the root, and the bytes of
    // their edges.
    struct footprint {
        std::size_t nodes = 0;
        std::size_t label_bytes = 0;
    };
    footprint size() const {
        footprint f;
        std::vector<const node*> pending{&root_};
        while (!pending.empty()) {
            const node* n = pending.back();
            pending.pop_back();
            for (const auto& child : n->children) {
                ++f.nodes;
                f.label_bytes += child->label.size();
                pending.push_back(child.get());
            }
        }
        return f;
    }

    // Drops every subscription, without recursion however deep the tree.
    void clear() {
        std::vector<std::unique_ptr<node>> pending = std::move(root_.children);
        root_.children.clear();
        root_.counts.clear();
        while (!pending.empty()) {
            std::unique_ptr<node> n = std::move(pending.back());
            pending.pop_back();
            for (auto& child : n->children) {
                pending.push_back(std::move(child));
            }
        }  // each node is destroyed with no children left
    }

  private:
    struct node {
        std::string label;  // the bytes on the edge from the parent; empty only at the root
        std::vector<std::unique_ptr<node>> children;  // sorted by the first byte of their label
        std::vector<std::pair<Peer, int>> counts;     // peers subscribed to exactly this prefix
    };
    using children_iterator = typename std::vector<std::unique_ptr<node>>::const_iterator;

    static children_iterator child_of(const node& n, char first) {
        auto at = std::lower_bound(
            n.children.begin(), n.children.end(), first,
            [](const std::unique_ptr<node>& child, char c) { return child->label.front() < c; });
        return at != n.children.end() && (*at)->label.front() == first ? at : n.children.end();
    }
    static auto child_of(node& n, char first) {
        const auto found = child_of(static_cast<const node&>(n), first);
        return n.children.begin() + (found - n.children.cbegin());
    }

    // Shows `stop(node)` each node whose prefix begins `topic`, shortest first, until it
    // returns true. Returns whether it did.
    template <class Stop>
    bool walk(std::string_view topic, Stop&& stop) const {
        const node* at = &root_;
        for (;;) {
            if (stop(*at)) {
                return true;
            }
            if (topic.empty()) {
                return false;
            }
            auto child = child_of(*at, topic.front());
            if (child == at->children.end() || !topic.starts_with((*child)->label)) {
                return false;
            }
            topic.remove_prefix((*child)->label.size());
            at = child->get();
        }
    }

    static auto find_count(node& n, const Peer& peer) {
        return std::find_if(n.counts.begin(), n.counts.end(),
                            [&](const auto& entry) { return entry.first == peer; });
    }

    static std::size_t common_length(std::string_view a, std::string_view b) {
        const auto [in_a, in_b] = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
        return static_cast<std::size_t>(in_a - a.begin());
    }

    static node* insert_child(node& parent, std::string_view label) {
        auto child = std::make_unique<node>();
        child->label = label;
        node* added = child.get();
        auto at = std::lower_bound(
            parent.children.begin(), parent.children.end(), label.front(),
            [](const std::unique_ptr<node>& c, char first) { return c->label.front() < first; });
        parent.children.insert(at, std::move(child));
        return added;
    }

    // Cuts `child`'s edge after `length` bytes: a new node takes the first part, `child` keeps
    // the rest below it.
    static void split(std::unique_ptr<node>& child, std::size_t length) {
        auto middle = std::make_unique<node>();
        middle->label = child->label.substr(0, length);
        child->label.erase(0, length);
        middle->children.push_back(std::move(child));
        child = std::move(middle);
    }

    // After a removal below `parent`: drops `child` when it holds nothing, or merges it with
    // its only child when it holds no subscription of its own.
    static void tidy(node& parent, node* child) {
        auto at = std::find_if(parent.children.begin(), parent.children.end(),
                               [&](const std::unique_ptr<node>& c) { return c.get() == child; });
        if (at == parent.children.end() || !child->counts.empty()) {
            return;
        }
        if (child->children.empty()) {
            parent.children.erase(at);
        } else if (child->children.size() == 1) {
            std::unique_ptr<node> only = std::move(child->children.front());
            only->label.insert(0, child->label);
            *at = std::move(only);
        }
    }

    node root_;
    mutable std::vector<Peer> matched_;  // reused by match(), so matching does not allocate
};

}  // namespace zpat
