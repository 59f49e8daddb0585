// The catalogue of named malformed inputs (docs/robustness.md lists every one): what a hostile
// peer sends to a raw TCP or TLS endpoint, or to the Majordomo broker, and what zpat does. Each
// input, as its own peer, must be refused or closed within 100 ms of its last byte (of its
// timeout, for silence), counted once in the right counter and in no other, allocate nothing
// beyond the limits, and cost a well-behaved peer running beside it nothing: every one of its
// messages arrives, in order.

#include <malloc.h>

#include <array>
#include <catch2/catch.hpp>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "majordomo_broker.hpp"
#include "support/plain_socket.hpp"
#include "support/plain_udp.hpp"
#include "support/raw_wire_bytes.hpp"
#include "support/temporary_directory.hpp"
#include "support/test_support.hpp"
#include "test_certificates.hpp"
#include "zpat/majordomo.hpp"
#include "zpat/zpat.hpp"

using namespace zpat::testing;
using zpat::message;

namespace {

// Under a sanitizer every step is several times slower; the promise is the plain build's.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int slowdown = 10;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr int slowdown = 10;
#else
constexpr int slowdown = 1;
#endif
#else
constexpr int slowdown = 1;
#endif

constexpr auto prompt = 100ms;        // refused or closed within this of the last byte
constexpr auto short_timeout = 50ms;  // the handshake and partial-message timeouts here
// max_message_size here; a case may leave at most this and as much again allocated (a frame
// being received legitimately holds up to max_message_size): an unchecked length would be far
// more.
constexpr std::size_t large = 1 << 20;

// Bytes the heap holds now (glibc's count; zero under a sanitizer's own allocator).
std::size_t heap_in_use() {
    return mallinfo2().uordblks;
}

// ---- raw TCP and TLS endpoints -------------------------------------------------------------

// What a connection's close is counted as: a reason (refused, malformed, over a limit, a timer),
// or nothing beyond the close itself (libzmq closes a peer of the wrong socket type or a frame
// over the size limit without saying why: zmq_watch.hpp).
enum class counted {
    refused,
    malformed,
    over_limits,
    handshake_timeouts,
    partial_timeouts,
    closed_only
};
constexpr std::array reasons{counted::refused, counted::malformed, counted::over_limits,
                             counted::handshake_timeouts, counted::partial_timeouts};

std::uint64_t count_of(const zpat::connection_counts& c, counted which) {
    switch (which) {
        case counted::refused:
            return c.refused;
        case counted::malformed:
            return c.malformed;
        case counted::over_limits:
            return c.over_limits;
        case counted::handshake_timeouts:
            return c.handshake_timeouts;
        case counted::partial_timeouts:
            return c.partial_timeouts;
        case counted::closed_only:
            return c.closed;
    }
    return 0;
}

const char* name_of(counted which) {
    switch (which) {
        case counted::refused:
            return "refused";
        case counted::malformed:
            return "malformed";
        case counted::over_limits:
            return "over_limits";
        case counted::handshake_timeouts:
            return "handshake_timeouts";
        case counted::partial_timeouts:
            return "partial_timeouts";
        case counted::closed_only:
            return "closed only";
    }
    return "";
}

enum class target { puller, publisher, replier, tls_puller };

struct wire_case {
    const char* name;
    target at;
    std::string bytes;
    counted expect;
    bool silent = false;  // the case is what it does not send: its timeout closes it
};

std::string zmtp3_greeting() {
    std::string g("\xff\0\0\0\0\0\0\0\x01\x7f\x03\x00", 12);
    g += std::string("NULL") + std::string(16, '\0') + '\0' + std::string(31, '\0');
    return g;
}

std::vector<wire_case> wire_cases() {
    const std::string pusher = greeting_of('u');
    const std::string subscriber = greeting_of('s');
    const std::string requester = greeting_of('q');
    const std::string http = "GET /stats HTTP/1.1\r\nHost: x\r\n\r\n";
    const std::string client_hello("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);
    using c = counted;
    using t = target;
    return {
        {"silence after connecting", t::puller, "", c::handshake_timeouts, true},
        {"half a greeting then silence", t::puller, "ZPAT", c::handshake_timeouts, true},
        {"a greeting without ZPAT", t::puller, "HELLO!!!", c::refused},
        {"an HTTP request", t::puller, http, c::refused},
        {"a TLS ClientHello at a plain port", t::puller, client_hello, c::refused},
        {"a ZMTP 3.0 greeting", t::puller, zmtp3_greeting(), c::refused},
        {"wire version 0", t::puller, std::string("ZPAT\x00u\0\0", 8), c::refused},
        {"wire version 2", t::puller, std::string("ZPAT\x02u\0\0", 8), c::refused},
        {"a greeting naming an unknown role", t::puller, greeting_of('z'), c::refused},
        {"a publisher's greeting at a puller", t::puller, greeting_of('p'), c::refused},
        {"a requester's greeting at a puller", t::puller, requester, c::refused},
        {"a puller's greeting at a puller", t::puller, greeting_of('l'), c::refused},
        {"a subscriber's greeting at a puller", t::puller, subscriber, c::refused},
        {"a message of zero frames", t::puller, pusher + u32(0), c::malformed},
        {"more frames than max_message_frames", t::puller, pusher + u32(9), c::malformed},
        {"2^32-1 frames", t::puller, pusher + u32(0xffffffff), c::malformed},
        {"a frame longer than max_message_size", t::puller, pusher + u32(1) + u32(2 * large),
         c::malformed},
        {"a frame of 4 GiB", t::puller, pusher + u32(1) + u32(0xffffffff), c::malformed},
        {"frames adding up past max_message_size", t::puller,
         pusher + u32(2) + u32(600000) + std::string(600000, 'x') + u32(600000), c::malformed},
        {"a count cut short then silence", t::puller, pusher + std::string(2, '\0'),
         c::partial_timeouts, true},
        {"a length cut short then silence", t::puller, pusher + u32(1) + std::string(2, '\0'),
         c::partial_timeouts, true},
        {"a frame cut short then silence", t::puller, pusher + u32(1) + u32(100) + "abc",
         c::partial_timeouts, true},
        {"500 KB declared and 1 KB sent", t::puller,
         pusher + u32(1) + u32(500000) + std::string(1000, 'x'), c::partial_timeouts, true},
        {"a subscription with an unknown flag byte", t::publisher,
         subscriber + message_bytes({"\x02weather"}), c::malformed},
        {"a subscription of two frames", t::publisher, subscriber + message_bytes({"\x01a", "b"}),
         c::malformed},
        {"an empty subscription frame", t::publisher, subscriber + message_bytes({""}),
         c::malformed},
        {"a prefix over max_subscription_prefix", t::publisher,
         subscriber + message_bytes({"\x01" + std::string(17, 'p')}), c::over_limits},
        {"more subscriptions than max_subscriptions", t::publisher,
         subscriber +
             message_bytes({"\x01"
                            "a"}) +
             message_bytes({"\x01"
                            "b"}) +
             message_bytes({"\x01"
                            "c"}) +
             message_bytes({"\x01"
                            "d"}) +
             message_bytes({"\x01"
                            "e"}),
         c::over_limits},
        {"a pusher's greeting at a publisher", t::publisher, pusher, c::refused},
        {"a requester's greeting at a publisher", t::publisher, requester, c::refused},
        {"a pusher's greeting at a replier", t::replier, pusher, c::refused},
        {"a replier's greeting at a replier", t::replier, greeting_of('r'), c::refused},
        {"a request over max_message_size", t::replier, requester + u32(1) + u32(2 * large),
         c::malformed},
        {"a request of zero frames", t::replier, requester + u32(0), c::malformed},
        {"garbage at a TLS port", t::tls_puller, std::string(300, '\x16'), c::refused},
        {"a plain zpat greeting at a TLS port", t::tls_puller,
         pusher + message_bytes({"in the clear"}), c::refused},
        {"an HTTP request at a TLS port", t::tls_puller, http, c::refused},
        {"silence at a TLS port", t::tls_puller, "", c::handshake_timeouts, true},
        {"half a TLS ClientHello then silence", t::tls_puller, client_hello, c::handshake_timeouts,
         true},
    };
}

// The endpoint under attack and a well-behaved peer of it, which exchanges `messages` while a
// case runs and reports whether every one arrived, in order.
class arena {
  public:
    static constexpr int messages = 200;

    arena(target at, const test_certificates& certificates) {
        zpat::options opts{.max_message_size = large,
                           .max_message_frames = 8,
                           .handshake_timeout = short_timeout,
                           .partial_message_timeout = short_timeout,
                           .max_subscriptions = 4,
                           .max_subscription_prefix = 16};
        zpat::options client;
        std::string scheme = "raw+tcp";
        if (at == target::tls_puller) {
            scheme = "raw+tls";
            opts.tls = zpat::tls_options{.certificate = certificates.server,
                                         .private_key = certificates.server_key};
            client.tls = zpat::tls_options{.trusted_ca = certificates.ca};
        }
        const std::string here = "@" + scheme + "://127.0.0.1:*";
        switch (at) {
            case target::puller:
            case target::tls_puller:
                puller_.emplace(here, opts);
                pusher_.emplace(">" + puller_->endpoints()[0], client);
                break;
            case target::publisher:
                publisher_.emplace(here, opts);
                subscriber_.emplace(">" + publisher_->endpoints()[0],
                                    std::initializer_list<std::string_view>{"good"}, client);
                REQUIRE(publisher_->wait_for_subscriptions(1, 5s));
                break;
            case target::replier:
                replier_.emplace(here, opts);
                requester_.emplace(">" + replier_->endpoints()[0], client);
                serving_ = std::thread(
                    [this] { replier_->serve([](message request) { return request; }); });
                break;
        }
    }
    ~arena() {
        if (serving_.joinable()) {
            replier_->stop();
            serving_.join();
        }
    }
    arena(const arena&) = delete;
    arena& operator=(const arena&) = delete;

    std::string endpoint() const {
        return puller_      ? puller_->endpoints()[0]
               : publisher_ ? publisher_->endpoints()[0]
                            : replier_->endpoints()[0];
    }
    zpat::connection_counts counts() const {
        return puller_      ? puller_->connections()
               : publisher_ ? publisher_->connections()
                            : replier_->connections();
    }

    // The well-behaved peer's half that sends (on its own thread).
    void send_all() {
        for (int i = 0; i < messages; ++i) {
            const message msg{"good", std::to_string(i)};
            if (pusher_) {
                sent_ok_ = pusher_->send(msg) && sent_ok_;
            } else if (publisher_) {
                sent_ok_ = publisher_->send(msg) && sent_ok_;
            } else {
                const auto reply = requester_->request(msg);
                sent_ok_ = reply && *reply == msg && sent_ok_;
            }
        }
    }
    // The half that receives: whether everything came, in order.
    bool received_all() {
        if (requester_) {
            return sent_ok_;
        }
        for (int i = 0; i < messages; ++i) {
            const auto got = puller_ ? puller_->receive(5s) : subscriber_->receive(5s);
            if (!got || *got != message{"good", std::to_string(i)}) {
                return false;
            }
        }
        return sent_ok_;
    }

  private:
    std::optional<zpat::puller> puller_;
    std::optional<zpat::pusher> pusher_;
    std::optional<zpat::publisher> publisher_;
    std::optional<zpat::subscriber> subscriber_;
    std::optional<zpat::replier> replier_;
    std::optional<zpat::requester> requester_;
    std::thread serving_;
    bool sent_ok_ = true;
};

// ---- ZeroMQ (ZMTP 3) endpoints -------------------------------------------------------------

struct zmtp_case {
    const char* name;
    std::string bytes;
    counted expect;
    bool silent = false;
};

// A ZMTP 3.0 greeting naming `mechanism`, as a client.
std::string zmtp_greeting(std::string mechanism) {
    mechanism.resize(20, '\0');
    return std::string("\xff\0\0\0\0\0\0\0\x01\x7f\x03\x00", 12) + mechanism +
           std::string(32, '\0');
}

// A short command frame: name and data.
std::string zmtp_command(const std::string& name, const std::string& data = {}) {
    const std::string body = static_cast<char>(name.size()) + name + data;
    return std::string("\x04", 1) + static_cast<char>(body.size()) + body;
}

// A ZMTP metadata property: a short name, a 4-byte length, the value.
std::string zmtp_property(const std::string& name, const std::string& value) {
    return static_cast<char>(name.size()) + name + u32(static_cast<std::uint32_t>(value.size())) +
           value;
}

std::vector<zmtp_case> zmtp_cases() {
    using c = counted;
    const std::string null = zmtp_greeting("NULL");
    const std::string ready_push = zmtp_command("READY", zmtp_property("Socket-Type", "PUSH"));
    const std::string handshaken = null + ready_push;
    return {
        {"zmtp: silence after connecting", "", c::handshake_timeouts, true},
        {"zmtp: an HTTP request", "GET /stats HTTP/1.1\r\nHost: x\r\n\r\n", c::handshake_timeouts,
         true},
        {"zmtp: a TLS ClientHello", std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11),
         c::handshake_timeouts, true},
        {"zmtp: an ERROR command in place of READY",
         null + zmtp_command("ERROR", std::string("\x03", 1) + "bad"), c::closed_only},
        {"zmtp: a signature alone then silence", null.substr(0, 10), c::handshake_timeouts, true},
        {"zmtp: a greeting then silence", null, c::handshake_timeouts, true},
        {"zmtp: a greeting naming an unknown mechanism", zmtp_greeting("MAGIC"), c::refused},
        {"zmtp: a CURVE greeting at a NULL endpoint", zmtp_greeting("CURVE"), c::refused},
        {"zmtp: a PLAIN greeting at a NULL endpoint", zmtp_greeting("PLAIN"), c::refused},
        {"zmtp: HELLO in place of READY", null + zmtp_command("HELLO"), c::malformed},
        {"zmtp: an unknown command in place of READY", null + zmtp_command("WHAT"), c::malformed},
        {"zmtp: READY with a property longer than the command",
         null + zmtp_command("READY", std::string("\x0bSocket-Type", 12) + u32(1000) + "PUSH"),
         c::closed_only},
        {"zmtp: READY naming a socket type that cannot talk to a puller",
         null + zmtp_command("READY", zmtp_property("Socket-Type", "PUB")), c::closed_only},
        {"zmtp: READY naming an unknown socket type",
         null + zmtp_command("READY", zmtp_property("Socket-Type", "NOPE")), c::closed_only},
        {"zmtp: a frame longer than max_message_size", handshaken + "\x02" + u64(2 * large),
         c::closed_only},
        {"zmtp: a frame of 2^63 bytes", handshaken + "\x02" + u64(std::uint64_t{1} << 63U),
         c::closed_only},
    };
}

// ---- a raw+udp replier ------------------------------------------------------------------------

struct datagram_case {
    const char* name;
    std::string bytes;
};

std::vector<datagram_case> datagram_cases() {
    const std::string request = udp_datagram('q', 'Q', 7, {"hello"});
    std::string version_2 = request;
    version_2[4] = 2;
    const std::string header = request.substr(0, 16);
    std::string flagged = header;
    flagged[7] = 1;  // says a cookie follows, and none does
    return {
        {"udp: a datagram shorter than the header", "ZPAT"},
        {"udp: a datagram without ZPAT", std::string(16, 'X') + request.substr(16)},
        {"udp: wire version 2", version_2},
        {"udp: a publisher's datagram at a replier", udp_datagram('p', 'Q', 7, {"hello"})},
        {"udp: a reply sent to a replier", udp_datagram('r', 'R', 7, {"hello"})},
        {"udp: a datagram of an unknown kind", udp_datagram('q', 'Z', 7, {"hello"})},
        {"udp: a cookie flag without the cookie", flagged},
        {"udp: more frames declared than carried", header + u32(3) + u32(1) + "a"},
        {"udp: a frame length past the datagram's end", header + u32(1) + u32(1000) + "abc"},
        {"udp: a request over max_message_size",
         udp_datagram('q', 'Q', 8, {std::string(2000, 'x')})},
    };
}

// ---- the Majordomo broker, driven with frames ----------------------------------------------

namespace mdp = zpat::mdp;
using zpat::broker::detail::majordomo_broker;

struct broker_harness {
    explicit broker_harness(zpat::broker::service_config c) : cfg(std::move(c)) {}
    void in(message msg) { protocol.on_message(msg); }

    zpat::broker::service_config cfg;
    zpat::broker::detail::traffic_counters counts;
    std::vector<message> sent;
    majordomo_broker protocol{cfg, counts, [this](const message& m) { sent.push_back(m); }};
};

enum class mdp_counter { malformed, disconnects, names_refused, rejected, unexpected_dropped };

std::uint64_t count_of(const broker_harness& h, mdp_counter which) {
    const auto& c = h.protocol.counted();
    switch (which) {
        case mdp_counter::malformed:
            return h.counts.dropped_malformed.get();
        case mdp_counter::disconnects:
            return c.disconnects_sent.get();
        case mdp_counter::names_refused:
            return c.names_refused.get();
        case mdp_counter::rejected:
            return c.requests_rejected.get();
        case mdp_counter::unexpected_dropped:
            return c.unexpected_dropped.get();
    }
    return 0;
}

struct mdp_case {
    const char* name;
    std::function<void(broker_harness&)> setup;  // what comes first, as a well-behaved peer
    message hostile;
    mdp_counter expect;
};

message worker(const std::string& id, mdp::command command, std::vector<std::string> rest = {}) {
    message m{id, "", mdp::worker_header, mdp::frame_of(command)};
    for (auto& frame : rest) {
        m.push_back(frame);
    }
    return m;
}

std::vector<mdp_case> mdp_cases() {
    using m = mdp_counter;
    using cmd = mdp::command;
    const auto none = [](broker_harness&) {};
    const auto registered = [](broker_harness& h) { h.in(worker("w", cmd::ready, {"echo"})); };
    const auto busy = [](broker_harness& h) {
        h.in(worker("w", cmd::ready, {"echo"}));
        h.in(message{"c", "", mdp::client_header, "echo", "job"});
    };
    const std::string long_name(300, 'n');
    return {
        {"mdp: an identity alone", none, message{"x"}, m::malformed},
        {"mdp: no empty delimiter frame", none, message{"x", "MDPC01", "echo"}, m::malformed},
        {"mdp: an unknown protocol header", none, message{"x", "", "MDPX01", "echo"}, m::malformed},
        {"mdp: a client request without a service", none, message{"x", "", mdp::client_header},
         m::malformed},
        {"mdp: a service name over max_service_name", none,
         message{"x", "", mdp::client_header, long_name, "body"}, m::names_refused},
        {"mdp: a new service past max_services",
         [](broker_harness& h) {
             h.in(message{"x", "", mdp::client_header, "third", "body"});
         },
         message{"x", "", mdp::client_header, "fourth", "body"}, m::names_refused},
        {"mdp: a request past max_queue",
         [](broker_harness& h) {
             h.in(message{"x", "", mdp::client_header, "full", "2nd"});
         },
         message{"x", "", mdp::client_header, "full", "3rd"}, m::rejected},
        {"mdp: a request past max_queued_bytes", none,
         message{"x", "", mdp::client_header, "full", std::string(5000, 'b')}, m::rejected},
        {"mdp: a worker message without a command", none, message{"x", "", mdp::worker_header},
         m::malformed},
        {"mdp: a two-byte worker command", none,
         message{"x", "", mdp::worker_header, std::string("\x01\x02", 2)}, m::malformed},
        {"mdp: an unknown worker command", none,
         message{"x", "", mdp::worker_header, std::string("\x09", 1)}, m::malformed},
        {"mdp: READY without a service", none, worker("x", cmd::ready), m::malformed},
        {"mdp: READY with two services", none, worker("x", cmd::ready, {"a", "b"}), m::malformed},
        {"mdp: READY for an mmi. service", none, worker("x", cmd::ready, {"mmi.service"}),
         m::disconnects},
        {"mdp: READY twice", registered, worker("w", cmd::ready, {"echo"}), m::disconnects},
        {"mdp: READY with a name over max_service_name", none, worker("x", cmd::ready, {long_name}),
         m::names_refused},
        {"mdp: HEARTBEAT from an unregistered worker", none, worker("x", cmd::heartbeat),
         m::disconnects},
        {"mdp: REPLY from an unregistered worker", none, worker("x", cmd::reply, {"c", "", "r"}),
         m::disconnects},
        {"mdp: REPLY from an idle worker", registered, worker("w", cmd::reply, {"c", "", "r"}),
         m::disconnects},
        {"mdp: REPLY to a client the worker was not given", busy,
         worker("w", cmd::reply, {"other", "", "forged"}), m::disconnects},
        {"mdp: REPLY without a client address", busy, worker("w", cmd::reply), m::malformed},
        {"mdp: REQUEST sent by a worker", registered, worker("w", cmd::request, {"c", "", "x"}),
         m::disconnects},
        {"mdp: unexpected commands past max_unexpected_per_second",
         [](broker_harness& h) {
             for (int i = 0; i < 2; ++i) {
                 h.in(worker("x", cmd::heartbeat));
             }
         },
         worker("x", cmd::heartbeat), m::unexpected_dropped},
    };
}

zpat::broker::service_config limited_config() {
    zpat::broker::service_config cfg;
    cfg.max_services = 3;
    cfg.max_queue = 2;
    cfg.max_queued_bytes = 4096;
    cfg.max_unexpected_per_second = 2;
    return cfg;
}

}  // namespace

TEST_CASE(
    "the catalogue: each malformed input at a raw TCP or TLS endpoint is closed within 100 ms "
    "and counted once and costs a well-behaved peer nothing",
    "[robustness][catalogue]") {
    temporary_directory dir;
    const test_certificates certificates = make_test_certificates(dir.path());
    for (const wire_case& each : wire_cases()) {
        DYNAMIC_SECTION(each.name) {
            arena place(each.at, certificates);
            const auto before = place.counts();
            const std::size_t heap_before = heap_in_use();

            std::thread good([&] { place.send_all(); });
            plain_socket hostile(place.endpoint());
            if (!each.bytes.empty()) {
                hostile.send_all(each.bytes);
            }
            const auto sent_at = std::chrono::steady_clock::now();
            const bool closed = hostile.closed_by_peer();
            const auto took = std::chrono::steady_clock::now() - sent_at;
            good.join();

            CHECK(closed);
            const auto bound = (each.silent ? short_timeout + prompt : prompt) * slowdown;
            CHECK(std::chrono::duration_cast<std::chrono::milliseconds>(took).count() <=
                  bound.count());
            CHECK(place.received_all());
            const auto after = place.counts();
            for (counted which : reasons) {
                CAPTURE(name_of(which));
                CHECK(count_of(after, which) - count_of(before, which) ==
                      (which == each.expect ? 1U : 0U));
            }
            CHECK(heap_in_use() < heap_before + 2 * large);
        }
    }
}

TEST_CASE(
    "the catalogue: each malformed input at a ZeroMQ endpoint is closed within 100 ms and "
    "counted once and costs a well-behaved peer nothing",
    "[robustness][catalogue][zeromq]") {
    for (const zmtp_case& each : zmtp_cases()) {
        DYNAMIC_SECTION(each.name) {
            zpat::puller puller("@tcp://127.0.0.1:*",
                                {.max_message_size = large, .handshake_timeout = short_timeout});
            zpat::pusher pusher(">" + puller.endpoints()[0]);
            const auto before = puller.connections();
            const std::size_t heap_before = heap_in_use();

            bool sent_ok = true;
            std::thread good([&] {
                for (int i = 0; i < arena::messages; ++i) {
                    sent_ok = pusher.send(message{"good", std::to_string(i)}) && sent_ok;
                }
            });
            plain_socket hostile(puller.endpoints()[0]);
            if (!each.bytes.empty()) {
                hostile.send_all(each.bytes);
            }
            const auto sent_at = std::chrono::steady_clock::now();
            const bool closed = hostile.closed_by_peer();
            const auto took = std::chrono::steady_clock::now() - sent_at;
            good.join();

            CHECK(closed);
            const auto bound = (each.silent ? short_timeout + prompt : prompt) * slowdown;
            CHECK(std::chrono::duration_cast<std::chrono::milliseconds>(took).count() <=
                  bound.count());
            for (int i = 0; i < arena::messages; ++i) {
                const auto got = puller.receive(5s);
                REQUIRE(got);
                CHECK(*got == message{"good", std::to_string(i)});
            }
            CHECK(sent_ok);
            // The monitor counts on its own thread: wait for the close to be told.
            REQUIRE(eventually([&] { return puller.connections().closed > before.closed; }));
            const auto after = puller.connections();
            CHECK(count_of(after, counted::closed_only) - count_of(before, counted::closed_only) ==
                  1);
            for (counted which : reasons) {
                CAPTURE(name_of(which));
                CHECK(count_of(after, which) - count_of(before, which) ==
                      (which == each.expect ? 1U : 0U));
            }
            CHECK(heap_in_use() < heap_before + 2 * large);
        }
    }
}

TEST_CASE(
    "the catalogue: each malformed Majordomo input is refused at once and counted once and "
    "a well-behaved client and worker lose nothing",
    "[robustness][catalogue][broker]") {
    for (const mdp_case& each : mdp_cases()) {
        DYNAMIC_SECTION(each.name) {
            broker_harness h(limited_config());
            // The well-behaved pair: a worker for "good", and the services the limits count.
            h.in(worker("good-worker", mdp::command::ready, {"good"}));
            h.in(message{"filler", "", mdp::client_header, "full", "waits"});
            each.setup(h);
            const std::uint64_t before = count_of(h, each.expect);
            const std::uint64_t malformed_before = count_of(h, mdp_counter::malformed);
            const std::size_t heap_before = heap_in_use();

            h.in(each.hostile);

            CHECK(count_of(h, each.expect) == before + 1);
            if (each.expect != mdp_counter::malformed) {
                CHECK(count_of(h, mdp_counter::malformed) == malformed_before);
            }
            CHECK(heap_in_use() < heap_before + large);
            // The good client's request reaches the good worker, and its reply the client.
            h.sent.clear();
            h.in(message{"good-client", "", mdp::client_header, "good", "ping"});
            REQUIRE(h.sent.size() == 1);
            CHECK(h.sent[0][0] == "good-worker");
            h.in(worker("good-worker", mdp::command::reply, {"good-client", "", "pong"}));
            REQUIRE(h.sent.size() == 2);
            CHECK(h.sent[1][0] == "good-client");
            CHECK(h.sent[1].back() == "pong");
        }
    }
}

TEST_CASE(
    "the catalogue: each malformed datagram at a raw+udp replier is dropped and counted once "
    "and a well-behaved requester loses nothing",
    "[robustness][catalogue]") {
    for (const datagram_case& each : datagram_cases()) {
        DYNAMIC_SECTION(each.name) {
            zpat::replier server("@raw+udp://127.0.0.1:*", {.max_message_size = 1024});
            std::thread serving([&] { server.serve([](message request) { return request; }); });
            zpat::requester client(">" + server.endpoints()[0]);
            bool answered = true;
            std::thread good([&] {
                for (int i = 0; i < 50; ++i) {
                    const auto reply = client.request(message{std::to_string(i)});
                    answered = answered && reply && *reply == message{std::to_string(i)};
                }
            });
            const std::uint64_t before = server.malformed_requests();
            const std::size_t heap_before = heap_in_use();
            plain_udp hostile;
            hostile.send_to(server.endpoints()[0], each.bytes);
            CHECK(eventually([&] { return server.malformed_requests() == before + 1; },
                             prompt * slowdown));
            good.join();
            server.stop();
            serving.join();
            CHECK(answered);
            CHECK(server.malformed_requests() == before + 1);
            CHECK(heap_in_use() < heap_before + large);
        }
    }
}

TEST_CASE("docs/robustness.md lists every input of the catalogue", "[robustness][catalogue]") {
    std::ifstream file(ZPAT_DOCS_DIR "/robustness.md");
    REQUIRE(file);
    std::stringstream text;
    text << file.rdbuf();
    const std::string doc = text.str();
    std::size_t listed = 0;
    for (const wire_case& each : wire_cases()) {
        CAPTURE(each.name);
        CHECK(doc.find(std::string("| ") + each.name + " |") != std::string::npos);
        ++listed;
    }
    for (const datagram_case& each : datagram_cases()) {
        CAPTURE(each.name);
        CHECK(doc.find(std::string("| ") + each.name + " |") != std::string::npos);
        ++listed;
    }
    for (const zmtp_case& each : zmtp_cases()) {
        CAPTURE(each.name);
        CHECK(doc.find(std::string("| ") + each.name + " |") != std::string::npos);
        ++listed;
    }
    for (const mdp_case& each : mdp_cases()) {
        CAPTURE(each.name);
        CHECK(doc.find(std::string("| ") + each.name + " |") != std::string::npos);
        ++listed;
    }
    CHECK(listed >= 60);
}
