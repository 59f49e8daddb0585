// The publisher's subscription trie, on plain ints.

#include <catch2/catch.hpp>
#include <vector>

#include "topic_trie.hpp"

namespace {

std::vector<int> peers_for(const zpat::detail::topic_trie<int>& trie, std::string_view topic) {
    std::vector<int> found;
    trie.match(topic, [&](int peer) { found.push_back(peer); });
    return found;
}

}  // namespace

TEST_CASE("trie: a topic reaches every peer with a matching prefix, each once") {
    zpat::detail::topic_trie<int> trie;
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

TEST_CASE("trie: subscriptions are counted, and a departed peer leaves entirely") {
    zpat::detail::topic_trie<int> trie;
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
