// The raw engine's parts alone, without a network: pipes that are connect slots never started
// (nothing dials), so what a strategy chose is read straight from their queues.

#include <poll.h>
#include <array>
#include <atomic>
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "distributor.hpp"
#include "encoded_batch.hpp"
#include "load_balancer.hpp"
#include "pipe_set.hpp"
#include "prefix_set.hpp"
#include "recycler.hpp"
#include "write_queue.hpp"
#include "zpat/core/endpoint.hpp"
#include "zpat/core/wake_signal.hpp"

using zpat::message;
using zpat::options;
using namespace zpat::detail;
using namespace std::chrono_literals;

namespace {

// A set of `n` connect slots, never started: their queues fill and nothing is written.
std::shared_ptr<pipe_set> slots(std::size_t n, const options& opts) {
    std::vector<zpat::endpoint> eps;
    for (std::size_t i = 0; i < n; ++i) {
        eps.push_back(zpat::parse_endpoints("raw+tcp://127.0.0.1:" + std::to_string(9 + i),
                                            zpat::link::connect)[0]);
    }
    return pipe_set::open(wire::role::pusher, eps, opts, false);
}

std::vector<std::size_t> queued(const pipe_set& set) {
    std::vector<std::size_t> counts;
    for (const pipe_ptr& p : set.peers()) {
        counts.push_back(p->queued.messages());
    }
    return counts;
}

// A subscriber's command: '\x01' subscribes to `prefix`, '\x00' unsubscribes.
message command(char kind, std::string_view prefix) {
    return message{std::string(1, kind) + std::string(prefix)};
}

// Hands `msg` to the distributor as one read of a subscriber's would. Returns whether it was
// taken (false: the subscriber would be cut off).
bool take(distributor& d, zpat::detail::pipe& p, const message& msg) {
    p.stock.assign(1, msg);
    return d.take_commands(p, 1).why == nullptr;
}

bool readable(int fd) {
    pollfd watch{fd, POLLIN, 0};
    return ::poll(&watch, 1, 0) == 1;
}

}  // namespace

TEST_CASE("load balancer: each message to the next pipe in turn, passing over full ones") {
    options opts;
    opts.send_high_water_mark = 2;
    opts.send_timeout = 0ms;
    auto set = slots(3, opts);
    load_balancer balancer(*set);
    for (int i = 0; i < 4; ++i) {
        REQUIRE(balancer.send(message{"m"}));
    }
    CHECK(queued(*set) == std::vector<std::size_t>{2, 1, 1});
    {
        std::lock_guard lock(set->mutex());
        set->discard_queued(*set->peers()[1]);  // the middle one made room
    }
    REQUIRE(balancer.send(message{"m"}));  // its turn: the middle one
    CHECK(queued(*set) == std::vector<std::size_t>{2, 1, 1});
    REQUIRE(balancer.send(message{"m"}));
    REQUIRE(balancer.send(message{"m"}));  // the first one is full: the middle one again
    CHECK(queued(*set) == std::vector<std::size_t>{2, 2, 2});
    CHECK_FALSE(balancer.send(message{"m"}));  // every pipe full, no time to wait
    CHECK(queued(*set) == std::vector<std::size_t>{2, 2, 2});
    set->close();
}

TEST_CASE("load balancer: the byte high-water mark passes over a pipe too") {
    options opts;
    opts.send_high_water_bytes = 100;
    opts.send_timeout = 0ms;
    auto set = slots(2, opts);
    load_balancer balancer(*set);
    REQUIRE(balancer.send(message{std::string(200, 'x')}));  // over 100 bytes: pipe 0 is full
    REQUIRE(balancer.send(message{"small"}));
    REQUIRE(balancer.send(message{"small"}));
    CHECK(queued(*set) == std::vector<std::size_t>{1, 2});
    set->close();
}

TEST_CASE("distributor: a message goes to every pipe whose subscriptions match, once") {
    options opts;
    opts.send_high_water_mark = 1;
    auto set = slots(3, opts);
    distributor fan_out(*set, opts);
    {
        std::lock_guard lock(set->mutex());
        auto& peers = set->peers();
        CHECK(take(fan_out, *peers[0], command('\x01', "weather")));
        CHECK(take(fan_out, *peers[0], command('\x01', "we")));  // both match: sent once
        CHECK(take(fan_out, *peers[1], command('\x01', "")));    // everything
        CHECK_FALSE(take(fan_out, *peers[2], message{"hello"}));
        CHECK_FALSE(take(fan_out, *peers[2], message{"\x01", "two frames"}));
    }
    CHECK(fan_out.subscriptions_seen() == 3);
    REQUIRE(fan_out.send(message{"weather.paris", "12"}, false));
    CHECK(queued(*set) == std::vector<std::size_t>{1, 1, 0});
    // At the high-water mark a subscriber loses the message, counted.
    REQUIRE(fan_out.send(message{"news"}, false));
    CHECK(fan_out.dropped() == 1);
    {
        std::lock_guard lock(set->mutex());
        CHECK(take(fan_out, *set->peers()[0], command('\x00', "we")));
        fan_out.ended(*set->peers()[1]);  // its connection ended: its subscriptions go
        set->discard_queued(*set->peers()[0]);
        set->discard_queued(*set->peers()[1]);
    }
    REQUIRE(fan_out.send(message{"weather.rome"}, false));
    CHECK(queued(*set) == std::vector<std::size_t>{1, 0, 0});
    set->close();
}

TEST_CASE("distributor: a subscriber past its subscription limits is cut off, for a limit") {
    options opts;
    opts.max_subscriptions = 2;
    opts.max_subscription_prefix = 8;
    auto set = slots(2, opts);
    distributor fan_out(*set, opts);
    std::unique_lock lock(set->mutex());
    zpat::detail::pipe& p = *set->peers()[0];
    CHECK(take(fan_out, p, command('\x01', "a")));
    CHECK(take(fan_out, p, command('\x01', "a")));  // the same prefix again holds one more
    p.stock.assign(1, command('\x01', "b"));
    const drop_reason third = fan_out.take_commands(p, 1);
    REQUIRE(third.why != nullptr);
    CHECK(third.over_limit);
    CHECK(std::string(third.why).find("max_subscriptions") != std::string::npos);
    CHECK(take(fan_out, p, command('\x00', "a")));  // an unsubscribe makes room
    CHECK(take(fan_out, p, command('\x01', "b")));
    CHECK(take(fan_out, p, command('\x00', "never held")));  // changes nothing, not refused
    CHECK(p.subscriptions == 2);

    zpat::detail::pipe& q = *set->peers()[1];
    CHECK(take(fan_out, q, command('\x01', std::string(8, 'x'))));
    p.stock.assign(1, command('\x01', std::string(9, 'x')));
    const drop_reason long_prefix = fan_out.take_commands(p, 1);
    CHECK(long_prefix.over_limit);
    CHECK(std::string(long_prefix.why).find("max_subscription_prefix") != std::string::npos);
    CHECK_FALSE(take(fan_out, q, message{"not a subscription"}));
    q.stock.assign(1, message{"not a subscription"});
    CHECK_FALSE(fan_out.take_commands(q, 1).over_limit);  // a protocol breach, not a limit

    fan_out.ended(p);  // a new connection starts with nothing held
    CHECK(p.subscriptions == 0);
    lock.unlock();
    set->close();
}

TEST_CASE("distributor: with wait_for_room, a full subscriber makes the send time out") {
    options opts;
    opts.send_high_water_mark = 1;
    opts.send_timeout = 50ms;
    auto set = slots(1, opts);
    distributor fan_out(*set, opts);
    {
        std::lock_guard lock(set->mutex());
        take(fan_out, *set->peers()[0], command('\x01', ""));
    }
    REQUIRE(fan_out.send(message{"a"}, true));
    CHECK_FALSE(fan_out.send(message{"b"}, true));
    CHECK(fan_out.dropped() == 0);
    set->close();
}

TEST_CASE("encoded batch: compact drops the unwanted topics and keeps the rest in order") {
    message batch;
    std::string& bytes = encoded_batch::reset(batch);
    for (const char* topic : {"drop.0", "keep.1", "drop.1", "drop.2", "keep.2", "keep.3"}) {
        wire::encode(message{topic, "body"}, bytes);
    }
    const std::size_t one = bytes.size() / 6;
    // The storage is larger than the batch: what follows its bytes (here the start of another
    // message, as the next read may leave it) is not the batch's.
    encoded_batch::set(batch, bytes.size(), 6);
    wire::encode(message{"drop.3", "body"}, bytes);
    const auto unwanted = [](std::string_view topic) { return topic.starts_with("drop"); };
    // From the second message on: the first, though unwanted, was handed out already.
    const auto gone = encoded_batch::compact(batch, one, unwanted);
    CHECK(gone.messages == 2);
    CHECK(gone.bytes == 2 * one);
    CHECK(encoded_batch::count(batch) == 4);
    std::vector<std::string> left;
    for (std::string_view rest = encoded_batch::bytes(batch); !rest.empty();) {
        const auto m = wire::encoded_message::at(rest);
        left.emplace_back(m.first_frame);
        rest.remove_prefix(m.bytes.size());
    }
    CHECK(left == std::vector<std::string>{"drop.0", "keep.1", "keep.2", "keep.3"});
    CHECK(encoded_batch::compact(batch, 0, [](std::string_view) { return true; }).messages == 4);
    CHECK(encoded_batch::bytes(batch).empty());
}

TEST_CASE("pipe: a read's messages are handed over whole, the rest kept as stock") {
    asio::io_context io;
    for (const std::size_t kept : {std::size_t{1}, std::size_t{3}, std::size_t{5}}) {
        zpat::detail::pipe p(io, 1, -1, zpat::options{});
        for (int i = 0; i < 5; ++i) {
            p.stock.push_back(message{"m" + std::to_string(i)});
        }
        const auto batch = p.take_decoded(kept);
        REQUIRE(batch.size() == kept);
        for (std::size_t i = 0; i < kept; ++i) {
            CHECK(batch[i] == message{"m" + std::to_string(i)});  // in order
        }
        CHECK(p.stock.size() == 5 - kept);
    }
}

// What a batch writes, all of it, as one string.
std::string written(write_batch& batch) {
    std::string bytes;
    while (!batch.done()) {
        std::array<std::string_view, 3> pieces;
        const std::size_t n = batch.next(pieces, 50000);  // as a short write might go
        REQUIRE(n > 0);
        std::size_t sum = 0;
        for (std::size_t i = 0; i < n; ++i) {
            bytes += pieces[i];
            sum += pieces[i].size();
        }
        batch.advance(sum);
    }
    return bytes;
}

std::string encoded(const message& msg) {
    std::string bytes;
    wire::encode(msg, bytes);
    return bytes;
}

TEST_CASE("write_queue: batches of segments carry whole messages, in order, and are counted") {
    write_queue q;
    write_batch batch;
    CHECK_FALSE(q.take(batch));
    const message small{"a"};
    const message large{"topic", std::string(3 * write_queue::segment_bytes + 5, 'x')};
    q.push(small);
    q.push(large);
    q.push(small);
    CHECK(q.messages() == 3);
    CHECK(q.bytes() == 2 * encoded(small).size() + encoded(large).size());
    REQUIRE(q.take(batch));  // 4 segments: within one batch
    CHECK(batch.messages == 3);
    CHECK(q.messages() == 0);
    CHECK(written(batch) == encoded(small) + encoded(large) + encoded(small));
    CHECK_FALSE(q.take(batch));
    CHECK(batch.messages == 0);

    SECTION("a message longer than a batch is counted with the batch it ends in") {
        const message huge{std::string(12 * write_queue::segment_bytes, 'y')};
        q.push(huge);
        REQUIRE(q.take(batch));
        CHECK(batch.messages == 0);
        std::string bytes = written(batch);
        REQUIRE(q.take(batch));
        CHECK(batch.messages == 1);
        bytes += written(batch);
        CHECK(bytes == encoded(huge));
    }
    SECTION("what a written batch held is reused, and what an idle queue keeps is bounded") {
        for (int i = 0; i < 40; ++i) {
            q.push(large);
        }
        while (q.take(batch)) {
            (void)written(batch);
        }
        CHECK(q.spare_bytes() <= write_queue::max_spares * 2 * write_queue::segment_bytes);
        CHECK(q.spare_bytes() >= write_queue::segment_bytes);
    }
}

TEST_CASE("write_queue: a connection lost mid-message leaves no torn tail for the next one") {
    write_queue q;
    write_batch batch;
    const message large{std::string(10 * write_queue::segment_bytes, 'x')};
    const message next{"next"};
    q.push(large);
    q.push(next);
    REQUIRE(q.take(batch));  // the first 8 segments of `large`
    CHECK(batch.messages == 0);
    q.recycle(batch);  // the connection is lost before they are written
    CHECK(q.drop_torn() == 1);
    CHECK(q.messages() == 1);
    CHECK(q.bytes() == encoded(next).size());
    REQUIRE(q.take(batch));
    CHECK(written(batch) == encoded(next));

    SECTION("so does the rest of a message whose start went out directly") {
        q.push_bytes("rest of a message", true);
        CHECK(q.messages() == 1);
        CHECK(q.drop_torn() == 1);
        CHECK(q.messages() == 0);
        CHECK_FALSE(q.take(batch));
    }
    SECTION("a queue that starts at a message loses nothing") {
        q.push(next);
        CHECK(q.drop_torn() == 0);
        CHECK(q.messages() == 1);
    }
}

TEST_CASE("recycler: storage comes back bounded, large messages' freed") {
    recycler storage;
    message small{std::string(100, 's')};
    CHECK(recycler::keep_small(small) == 100);
    message large{std::string(recycler::max_kept_message + 1, 'l')};
    CHECK(recycler::keep_small(large) == 0);
    CHECK(large.empty());

    storage.give_back(std::vector<message>(10), 1000);
    CHECK(storage.messages() == 10);
    storage.give_back(std::vector<message>(recycler::max_messages), 0);  // no room for it
    CHECK(storage.messages() == 10);
    std::vector<message> stock(3);
    storage.restock(stock, 64);
    CHECK(stock.size() == 13);
    CHECK(storage.messages() == 0);
    CHECK(storage.bytes() == 0);
    for (int i = 0; i < 63; ++i) {
        storage.give_back(message{"one"});
    }
    CHECK(storage.messages() == 0);  // gathered, not yet a batch
    storage.give_back(message{"one"});
    CHECK(storage.messages() == 64);
}

TEST_CASE("wake signal: readable while raised, whatever number of raises") {
    zpat::wake_signal signal;
    CHECK_FALSE(readable(signal.fd()));
    signal.raise();
    signal.raise();
    CHECK(readable(signal.fd()));
    signal.clear();
    CHECK_FALSE(readable(signal.fd()));
    CHECK_FALSE(signal.raised());
}

TEST_CASE("wake signal: a raise that crosses a clear is never lost") {
    // One thread raises as fast as it can, after each raise publishing how many it made; the
    // other waits for the descriptor, clears, and takes note of the count. A raise lost to a
    // crossing clear leaves the descriptor unreadable while raises go on: the wait times out.
    zpat::wake_signal signal;
    std::atomic<std::uint64_t> made{0};
    std::atomic<bool> done{false};
    constexpr std::uint64_t raises = 200'000;
    std::thread raiser([&] {
        const auto until = std::chrono::steady_clock::now() + 5s;
        for (std::uint64_t i = 1; i <= raises && std::chrono::steady_clock::now() < until; ++i) {
            made.store(i);
            signal.raise();
        }
        done = true;
        signal.raise();  // so that the waiter sees `done`
    });
    std::uint64_t seen = 0;
    bool lost = false;
    while (!lost && !(done && seen == made.load())) {
        pollfd item{signal.fd(), POLLIN, 0};
        lost = ::poll(&item, 1, 2000) == 0;
        signal.clear();
        seen = made.load();
    }
    raiser.join();
    CHECK_FALSE(lost);
    CHECK(seen == made.load());
}

TEST_CASE("prefix set: counted like ZeroMQ's subscriptions, matched in the topic's length") {
    prefix_set prefixes;
    CHECK_FALSE(prefixes.matches("weather.paris"));
    prefixes.add("weather.");
    prefixes.add("weather.");
    prefixes.add("news");
    CHECK(prefixes.matches("weather.paris"));
    CHECK(prefixes.matches("news"));
    CHECK_FALSE(prefixes.matches("new"));
    CHECK(prefixes.list() == std::vector<std::string>{"weather.", "weather.", "news"});
    CHECK(prefixes.remove("weather."));
    CHECK(prefixes.matches("weather.paris"));  // subscribed twice: one left
    CHECK(prefixes.remove("weather."));
    CHECK_FALSE(prefixes.matches("weather.paris"));
    CHECK_FALSE(prefixes.remove("weather."));
    CHECK(prefixes.contains("news"));
    prefixes.assign(std::vector<std::string>{""});  // everything
    CHECK(prefixes.matches("anything"));
    CHECK_FALSE(prefixes.contains("news"));
    CHECK(prefixes.remove(""));
    CHECK(prefixes.empty());
}
