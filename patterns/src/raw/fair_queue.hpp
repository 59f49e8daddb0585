#pragma once
// fair_queue: messages from many peers, taken one per peer in turn, so a peer that sends much
// cannot starve one that sends little (libzmq's fair queueing). Generic over the peer (the raw
// socket uses peer ids; the tests use ints). Not thread-safe.

#include <cstddef>
#include <deque>
#include <map>
#include <set>
#include <utility>

namespace zpat::detail {

template <class Peer, class Item>
class fair_queue {
  public:
    // Appends `item` to `from`'s queue; a peer whose queue was empty joins the end of the turns.
    void push(const Peer& from, Item item) {
        auto& queue = queues_[from];
        if (queue.empty()) {
            turns_.push_back(from);
        }
        queue.push_back(std::move(item));
        ++size_;
    }

    // Takes the next item from the peer whose turn it is; that peer goes to the back of the turns
    // if it has more. Precondition: !empty().
    std::pair<Peer, Item> pop() {
        const Peer from = turns_.front();
        turns_.pop_front();
        auto found = queues_.find(from);
        std::pair<Peer, Item> next{from, std::move(found->second.front())};
        found->second.pop_front();
        if (found->second.empty()) {
            // An emptied queue stays for the peer's next message (no allocation per message
            // when a receiver keeps up), unless the peer has left.
            if (gone_.erase(from) > 0) {
                queues_.erase(found);
            }
        } else {
            turns_.push_back(from);
        }
        --size_;
        return next;
    }

    bool empty() const noexcept { return size_ == 0; }
    std::size_t size() const noexcept { return size_; }
    // Items waiting from one peer: what its high-water mark is measured against.
    std::size_t size_of(const Peer& from) const {
        auto found = queues_.find(from);
        return found == queues_.end() ? 0 : found->second.size();
    }
    // The peer has left: its queue goes once its last item has been taken.
    void forget(const Peer& peer) {
        auto found = queues_.find(peer);
        if (found == queues_.end()) {
            return;
        }
        if (found->second.empty()) {
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
    std::map<Peer, std::deque<Item>> queues_;  // peers that sent, until they leave
    std::set<Peer> gone_;                      // peers that left with items still queued
    std::deque<Peer> turns_;                   // those peers, in the order they get a turn
    std::size_t size_ = 0;
};

}  // namespace zpat::detail
