// The raw backend's fan-in strategy, on plain ints.

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "fair_queue.hpp"

TEST_CASE("fair queue: peers with messages waiting take turns, one message each") {
    zpat::detail::fair_queue<int, std::string> queue;
    for (int i = 0; i < 4; ++i) {
        queue.push(1, "a" + std::to_string(i));  // a busy peer
    }
    queue.push(2, "b0");  // a quiet one
    queue.push(3, "c0");
    queue.push(2, "b1");
    std::string order;
    while (!queue.empty()) {
        order += queue.pop().second + " ";
    }
    CHECK(order == "a0 b0 c0 a1 b1 a2 a3 ");
}

TEST_CASE("fair queue: counts per peer, and a peer that empties rejoins at the back") {
    zpat::detail::fair_queue<int, int> queue;
    queue.push(7, 1);
    queue.push(7, 2);
    queue.push(8, 3);
    CHECK(queue.size() == 3);
    CHECK(queue.size_of(7) == 2);
    CHECK(queue.size_of(9) == 0);
    CHECK(queue.pop() == std::pair{7, 1});
    CHECK(queue.pop() == std::pair{8, 3});
    queue.push(8, 4);  // 8 emptied, so it queues behind 7
    CHECK(queue.pop() == std::pair{7, 2});
    CHECK(queue.pop() == std::pair{8, 4});
    CHECK(queue.empty());
    queue.push(1, 1);
    queue.clear();
    CHECK(queue.empty());
    CHECK(queue.size_of(1) == 0);
}

TEST_CASE("fair queue: a peer that left keeps its queued items, then its queue goes") {
    zpat::detail::fair_queue<int, int> queue;
    queue.push(1, 10);
    queue.push(2, 20);
    CHECK(queue.pop() == std::pair{1, 10});
    CHECK(queue.peers() == 2);  // 1 is empty but still connected: its queue is kept
    queue.forget(1);
    CHECK(queue.peers() == 1);  // empty and gone: removed at once
    queue.push(2, 21);
    queue.forget(2);  // gone, with two items still to be taken
    CHECK(queue.peers() == 1);
    CHECK(queue.pop() == std::pair{2, 20});
    CHECK(queue.pop() == std::pair{2, 21});
    CHECK(queue.peers() == 0);
}

TEST_CASE("fair queue: batches are taken item by item in turn, or whole by a lone peer") {
    using queue_type = zpat::detail::fair_queue<int, int>;
    queue_type queue;
    queue.push(1, queue_type::batch{10, 11, 12});
    queue.push(2, 20);
    queue.push(1, queue_type::batch{13});
    CHECK(queue.size() == 5);
    CHECK(queue.size_of(1) == 4);

    // Two peers waiting: one item each in turn, up to the limit.
    queue_type::batch got;
    std::vector<int> from;
    CHECK(queue.take(got, from, 3) == 3);
    CHECK(got == queue_type::batch{10, 20, 11});
    CHECK(from == std::vector<int>{1, 2, 1});

    // Peer 1 alone, its oldest batch partly taken: still item by item.
    got.clear();
    from.clear();
    CHECK(queue.take(got, from, 1) == 1);
    CHECK(got == queue_type::batch{12});

    // Peer 1 alone with a whole batch: all of it, past the limit.
    queue.push(1, queue_type::batch{14, 15, 16});
    got.clear();
    from.clear();
    CHECK(queue.take(got, from, 1) == 1);
    CHECK(got == queue_type::batch{13});
    got.clear();
    from.clear();
    CHECK(queue.take(got, from, 1) == 3);
    CHECK(got == queue_type::batch{14, 15, 16});
    CHECK(from == std::vector<int>{1, 1, 1});
    CHECK(queue.empty());
    CHECK(queue.size_of(1) == 0);

    // An emptied peer rejoins the turns at the back.
    queue.push(2, 21);
    queue.push(1, queue_type::batch{17});
    CHECK(queue.pop() == std::pair{2, 21});
    CHECK(queue.pop() == std::pair{1, 17});
    CHECK(queue.take(got, from, 8) == 0);
}

TEST_CASE("fair queue: remove_if drops waiting items and keeps the turns of the rest") {
    using queue_type = zpat::detail::fair_queue<int, int>;
    queue_type queue;
    queue.push(1, queue_type::batch{10, 11, 12});
    queue.push(1, queue_type::batch{13, 14});
    queue.push(2, 20);
    queue.push(3, 30);
    CHECK(queue.pop() == std::pair{1, 10});  // the front batch is partly taken

    queue.remove_if([](int item) { return item % 2 == 1 || item == 30; });
    CHECK(queue.size() == 3);
    CHECK(queue.size_of(1) == 2);
    CHECK(queue.size_of(3) == 0);
    CHECK(queue.pop() == std::pair{2, 20});
    CHECK(queue.pop() == std::pair{1, 12});
    CHECK(queue.pop() == std::pair{1, 14});
    CHECK(queue.empty());

    // A peer that left and has nothing left after the removal goes at once.
    queue.push(4, 40);
    queue.forget(4);
    queue.remove_if([](int) { return true; });
    CHECK(queue.empty());
    CHECK(queue.peers() == 3);  // 1, 2 and 3 stay connected
}
