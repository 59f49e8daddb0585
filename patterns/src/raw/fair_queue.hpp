#pragma once
// fair_queue: messages from many peers, taken one per peer in turn, so a peer that sends much
// cannot starve one that sends little (libzmq's fair queueing). Items arrive one at a time or
// in batches (what one read decoded), and a batch is stored whole: when one peer alone has
// items waiting, take() hands over its batch by swapping vectors, with no per-item work.
// Generic over the peer (the raw socket uses peer ids; the tests use ints). Not thread-safe.

#include <algorithm>
#include <cstddef>
#include <deque>
#include <map>
#include <set>
#include <utility>
#include <vector>

namespace zpat::detail {

template <class Peer, class Item>
class fair_queue {
  public:
    using batch = std::vector<Item>;

    // Appends `item` to `from`'s queue; a peer whose queue was empty joins the end of the turns.
    void push(const Peer& from, Item item) {
        queue& q = join(from);
        if (q.batches.empty()) {
            q.batches.emplace_back();
        }
        q.batches.back().push_back(std::move(item));
        ++q.count;
        ++size_;
    }
    // Appends every item of `items` to `from`'s queue, in order, taking the vector whole.
    void push(const Peer& from, batch&& items) {
        if (items.empty()) {
            return;
        }
        queue& q = join(from);
        const std::size_t n = items.size();
        if (q.batches.size() == 1 && q.batches.front().empty()) {
            q.batches.front() = std::move(items);
        } else {
            q.batches.push_back(std::move(items));
        }
        q.count += n;
        size_ += n;
    }

    // Takes the next item from the peer whose turn it is; that peer goes to the back of the
    // turns if it has more. Precondition: !empty().
    std::pair<Peer, Item> pop() {
        const auto found = queues_.find(turns_.front());
        turns_.pop_front();
        queue& q = found->second;
        std::pair<Peer, Item> next{found->first, std::move(q.batches.front()[q.taken])};
        if (++q.taken == q.batches.front().size()) {
            q.taken = 0;
            if (q.batches.size() > 1) {
                q.batches.pop_front();
            } else {
                q.batches.front().clear();  // kept with its capacity for the next push
            }
        }
        --q.count;
        --size_;
        settle(found);
        return next;
    }

    // Appends to `into` and `from` the items the next pops would give, up to `limit`; or, when
    // one peer alone has items waiting and `into` is empty, that peer's oldest batch whole
    // (which may hold more than `limit`). Returns how many were taken.
    std::size_t take(batch& into, std::vector<Peer>& from, std::size_t limit) {
        if (turns_.size() == 1 && into.empty()) {
            const auto found = queues_.find(turns_.front());
            queue& q = found->second;
            if (q.taken == 0) {
                std::swap(into, q.batches.front());
                if (q.batches.size() > 1) {
                    q.batches.pop_front();
                }
                const std::size_t n = into.size();
                from.assign(n, found->first);
                q.count -= n;
                size_ -= n;
                turns_.pop_front();
                settle(found);
                return n;
            }
        }
        std::size_t n = 0;
        for (; n < limit && !empty(); ++n) {
            auto [peer, item] = pop();
            into.push_back(std::move(item));
            from.push_back(peer);
        }
        return n;
    }

    // Drops every waiting item for which `pred` holds; the others keep their order.
    template <class Predicate>
    void remove_if(Predicate pred) {
        for (auto found = queues_.begin(); found != queues_.end();) {
            queue& q = found->second;
            const std::size_t had = q.count;
            q.count = 0;
            for (batch& items : q.batches) {
                const auto first = items.begin() + static_cast<std::ptrdiff_t>(
                                                       &items == &q.batches.front() ? q.taken : 0);
                items.erase(std::remove_if(first, items.end(), pred), items.end());
                q.count += static_cast<std::size_t>(items.end() - first);
            }
            // No emptied batch may stay in front of one with items.
            while (!q.batches.empty() && q.batches.front().size() == q.taken) {
                q.batches.pop_front();
                q.taken = 0;
            }
            std::erase_if(q.batches, [](const batch& items) { return items.empty(); });
            size_ -= had - q.count;
            if (had > 0 && q.count == 0) {
                std::erase(turns_, found->first);
                if (gone_.erase(found->first) > 0) {
                    found = queues_.erase(found);
                    continue;
                }
            }
            ++found;
        }
    }

    // Calls fn(peer, item) for every waiting item, oldest first within each peer; `fn` may
    // change an item but not take it (remove_if() does that).
    template <class Fn>
    void for_each(Fn fn) {
        for (auto& [peer, q] : queues_) {
            for (batch& items : q.batches) {
                const std::size_t first = &items == &q.batches.front() ? q.taken : 0;
                for (std::size_t i = first; i < items.size(); ++i) {
                    fn(peer, items[i]);
                }
            }
        }
    }

    bool empty() const noexcept { return size_ == 0; }
    std::size_t size() const noexcept { return size_; }
    // Items waiting from one peer: what its high-water mark is measured against.
    std::size_t size_of(const Peer& from) const {
        auto found = queues_.find(from);
        return found == queues_.end() ? 0 : found->second.count;
    }
    // The peer has left: its queue goes once its last item has been taken.
    void forget(const Peer& peer) {
        auto found = queues_.find(peer);
        if (found == queues_.end()) {
            return;
        }
        if (found->second.count == 0) {
            queues_.erase(found);
        } else {
            gone_.insert(peer);
        }
    }
    // Peers with a queue, empty or not: bounded by the peers connected plus those leaving.
    std::size_t peers() const noexcept { return queues_.size(); }

    void clear() {
        gone_.clear();
        queues_.clear();
        turns_.clear();
        size_ = 0;
    }

  private:
    struct queue {
        std::deque<batch> batches;  // oldest first
        std::size_t taken = 0;      // items of the oldest batch already taken
        std::size_t count = 0;      // items waiting
    };
    using iterator = typename std::map<Peer, queue>::iterator;

    queue& join(const Peer& from) {
        queue& q = queues_[from];
        if (q.count == 0) {
            turns_.push_back(from);
        }
        return q;
    }
    // After a take from the peer at `found`, which has left the turns: it goes to the back if
    // it has more. An emptied queue stays for the peer's next items (no allocation per item
    // when a receiver keeps up), unless the peer has left.
    void settle(iterator found) {
        if (found->second.count > 0) {
            turns_.push_back(found->first);
        } else if (gone_.erase(found->first) > 0) {
            queues_.erase(found);
        }
    }

    std::map<Peer, queue> queues_;  // peers that sent, until they leave
    std::set<Peer> gone_;           // peers that left with items still queued
    std::deque<Peer> turns_;        // those peers, in the order they get a turn
    std::size_t size_ = 0;
};

}  // namespace zpat::detail
