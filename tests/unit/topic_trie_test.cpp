// The publisher's subscription trie, on plain ints.

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "zpat/topic_trie.hpp"

namespace {

std::vector<int> peers_for(const zpat::topic_trie<int>& trie, std::string_view topic) {
    std::vector<int> found;
    trie.match(topic, [&](int peer) { found.push_back(peer); });
    return found;
}

}  // namespace

TEST_CASE("trie: a topic reaches every peer with a matching prefix, each once") {
    zpat::topic_trie<int> trie;
    trie.add("weather.", 1);
    trie.add("weather.nyc", 1);  // a second matching prefix: still one copy
    trie.add("weather.sf", 2);
    trie.add("", 3);  // everything
    trie.add("sports", 4);
    CHECK(peers_for(trie, "weather.nyc") == std::vector<int>{1, 3});
    CHECK(peers_for(trie, "weather.sf.south") == std::vector<int>{1, 2, 3});
    CHECK(peers_for(trie, "weather") == std::vector<int>{3});
    CHECK(peers_for(trie, "") == std::vector<int>{3});
    CHECK(peers_for(trie, "sport") == std::vector<int>{3});
}

TEST_CASE("trie: each prefix of a topic that is held is visited once, shortest first") {
    zpat::topic_trie<int> trie;
    trie.add("weather.", 1);
    trie.add("weather.nyc", 1);
    trie.add("weather.nyc", 5);
    trie.add("weather.sf", 2);
    trie.add("", 3);
    trie.add("", 3);  // counted twice, visited once
    const auto prefixes_of = [&](std::string_view topic) {
        std::vector<int> found;
        trie.for_each_prefix(topic, [&](int peer) { found.push_back(peer); });
        return found;
    };
    CHECK(prefixes_of("weather.nyc.east") == std::vector<int>{3, 1, 1, 5});
    CHECK(prefixes_of("weather.s") == std::vector<int>{3, 1});
    CHECK(prefixes_of("sports") == std::vector<int>{3});
    trie.remove("", 3);
    trie.remove("", 3);
    CHECK(prefixes_of("sports").empty());
}

TEST_CASE("trie: subscriptions are counted, and a departed peer leaves entirely") {
    zpat::topic_trie<int> trie;
    trie.add("a", 1);
    trie.add("a", 1);
    CHECK(trie.remove("a", 1));
    CHECK(peers_for(trie, "abc") == std::vector<int>{1});
    CHECK(trie.remove("a", 1));
    CHECK(peers_for(trie, "abc").empty());
    CHECK_FALSE(trie.remove("a", 1));
    CHECK_FALSE(trie.remove("never", 1));

    trie.add("x", 7);
    trie.add("xy", 7);
    trie.add("x", 8);
    trie.remove_peer(7);
    CHECK(peers_for(trie, "xyz") == std::vector<int>{8});
}

TEST_CASE("trie: shared prefixes split and merge back, and matching stays exact") {
    zpat::topic_trie<int> trie;
    trie.add("weather.nyc", 1);
    trie.add("weather.sf", 2);
    trie.add("weather", 3);
    trie.add("wea", 4);
    CHECK(peers_for(trie, "weather.nyc.north") == std::vector<int>{1, 3, 4});
    CHECK(peers_for(trie, "weather.s") == std::vector<int>{3, 4});
    CHECK(peers_for(trie, "we") == std::vector<int>{});
    CHECK(trie.matches("weathe"));
    CHECK_FALSE(trie.matches("w"));
    CHECK(trie.remove("weather", 3));
    CHECK(trie.remove("wea", 4));
    CHECK(peers_for(trie, "weather.sf") == std::vector<int>{2});
    // Back to two edges under one shared "weather." node.
    CHECK(trie.size().nodes == 3);
    CHECK(trie.size().label_bytes == std::string("weather.").size() + 3 + 2);
}

TEST_CASE("trie: what a subscription took, its unsubscribe or its peer's departure gives back") {
    zpat::topic_trie<int> trie;
    trie.add("base", 9);
    const auto before = trie.size();
    const std::string big(1 << 20, 'x');  // 1 MiB: one edge, not a million nodes
    for (int peer = 1; peer <= 3; ++peer) {
        trie.add(big, peer);
        trie.add(big.substr(0, 1000) + "y", peer);
    }
    CHECK(trie.size().nodes <= before.nodes + 4);
    CHECK(trie.size().label_bytes <= before.label_bytes + big.size() + 2);
    CHECK(peers_for(trie, big + "!") == std::vector<int>{1, 2, 3});
    for (int peer = 1; peer <= 2; ++peer) {
        CHECK(trie.remove(big, peer));
        CHECK(trie.remove(big.substr(0, 1000) + "y", peer));
    }
    trie.remove_peer(3);
    CHECK(trie.size().nodes == before.nodes);
    CHECK(trie.size().label_bytes == before.label_bytes);
    CHECK(peers_for(trie, "base") == std::vector<int>{9});
}

TEST_CASE("trie: a chain 2000 nodes deep is matched, emptied and destroyed in loops") {
    // Each prefix one byte longer than the last: as deep as a tree gets for the bytes sent.
    const std::string chain(2000, 'a');
    auto trie = std::make_unique<zpat::topic_trie<int>>();
    for (std::size_t n = 1; n <= chain.size(); ++n) {
        trie->add(std::string_view(chain).substr(0, n), 1);
    }
    CHECK(trie->size().nodes == chain.size());
    CHECK(peers_for(*trie, chain) == std::vector<int>{1});
    trie->remove_peer(1);
    CHECK(trie->empty());
    for (std::size_t n = 1; n <= chain.size(); ++n) {
        trie->add(std::string_view(chain).substr(0, n), 2);
    }
    trie.reset();  // the destructor walks a work list
}
