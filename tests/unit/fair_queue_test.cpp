// The raw backend's fan-in strategy, on plain ints.

#include <catch2/catch.hpp>
#include <string>

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
