// CURVE on ZeroMQ roles: who gets in, who does not, what each side is told, and the certificate
// files keys are kept in. Modelled on libzmq's tests/test_security_curve.cpp (valid client,
// unknown client key, NULL client, wrong server key).

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "support/captured_stderr.hpp"
#include "support/temporary_directory.hpp"
#include "support/test_support.hpp"
#include "zmq/address_block.hpp"
#include "zpat/zpat.hpp"

using namespace zpat::testing;
using zpat::message;

namespace {

namespace fs = std::filesystem;

struct curve_world {
    zpat::curve_keys server = zpat::make_curve_keys();
    zpat::curve_keys client = zpat::make_curve_keys();
    zpat::curve_keys stranger = zpat::make_curve_keys();

    zpat::options server_options() const {
        return {.curve =
                    zpat::curve_options{.keys = server, .allowed_clients = {client.public_key}}};
    }
    zpat::options client_options(const zpat::curve_keys& keys) const {
        return {.curve = zpat::curve_options{.keys = keys, .server_key = server.public_key}};
    }
};

}  // namespace

TEST_CASE("CURVE clients on the allow-list exchange messages in every ZeroMQ pattern") {
    const curve_world keys;
    for (const std::string transport : {"tcp", "ipc"}) {
        CAPTURE(transport);
        {
            zpat::replier server("@" + any_endpoint(transport), keys.server_options());
            zpat::requester client(">" + server.endpoints()[0], keys.client_options(keys.client));
            std::thread serving([&] {
                auto request = server.receive(5s);
                if (request) {
                    server.reply(*request);
                }
            });
            const auto reply = client.request(message{"sealed"});
            serving.join();
            REQUIRE(reply);
            CHECK(*reply == message{"sealed"});
        }
        {
            zpat::puller sink("@" + any_endpoint(transport), keys.server_options());
            zpat::pusher source(">" + sink.endpoints()[0], keys.client_options(keys.client));
            REQUIRE(source.send(message{"work"}));
            const auto got = sink.receive(5s);
            REQUIRE(got);
            CHECK(*got == message{"work"});
        }
        {
            zpat::publisher pub("@" + any_endpoint(transport), keys.server_options());
            zpat::subscriber sub(">" + pub.endpoints()[0], {"t"}, keys.client_options(keys.client));
            REQUIRE(pub.wait_for_subscriptions(1, 5s));
            REQUIRE(pub.send(message{"t", "news"}));
            const auto got = sub.receive(5s);
            REQUIRE(got);
            CHECK(*got == message{"t", "news"});
        }
    }
}

TEST_CASE(
    "a CURVE server keeps out unknown keys and NULL clients and clients with a wrong "
    "server key: both sides count it and say why and never log a key") {
    const curve_world keys;
    captured_stderr log;
    zpat::puller sink("@tcp://127.0.0.1:*", keys.server_options());
    const std::string at = ">" + sink.endpoints()[0];

    zpat::pusher stranger(at, keys.client_options(keys.stranger));
    zpat::pusher plain(at);
    zpat::options misled = keys.client_options(keys.client);
    misled.curve->server_key = keys.stranger.public_key;
    zpat::pusher misled_client(at, misled);
    for (int i = 0; i < 5; ++i) {
        REQUIRE(stranger.send(message{"forged"}));
        REQUIRE(plain.send(message{"forged"}));
        REQUIRE(misled_client.send(message{"forged"}));
    }

    // Each client learns within two seconds that it was refused.
    CHECK(eventually([&] { return stranger.connections().refused >= 1; }, 2s));
    CHECK(eventually([&] { return misled_client.connections().refused >= 1; }, 2s));
    // The server counts the unknown key and the NULL client as refused.
    CHECK(eventually([&] { return sink.connections().refused >= 2; }, 2s));

    // The honest client is served all the while, and nothing of the others arrives.
    zpat::pusher honest(at, keys.client_options(keys.client));
    for (int i = 0; i < 20; ++i) {
        REQUIRE(honest.send(message{std::to_string(i)}));
    }
    for (int i = 0; i < 20; ++i) {
        const auto got = sink.receive(5s);
        REQUIRE(got);
        CHECK(*got == message{std::to_string(i)});
    }
    CHECK_FALSE(sink.receive(300ms));

    CHECK(eventually([&] {
        const std::string text = log.text();
        return text.find(
                   "refused a CURVE client from 127.0.0.1: its key is not on the "
                   "allow-list") != std::string::npos &&
               text.find("the server refused this client's CURVE key") != std::string::npos &&
               text.find("the server closed the connection during the CURVE handshake") !=
                   std::string::npos;
    }));
    const std::string text = log.text();
    for (const zpat::curve_keys* pair : {&keys.server, &keys.client, &keys.stranger}) {
        CHECK(text.find(pair->public_key) == std::string::npos);
        CHECK(text.find(pair->secret_key) == std::string::npos);
    }
}

TEST_CASE(
    "a refused CURVE requester fails within two seconds with the reason instead of "
    "waiting out its attempts") {
    const curve_world keys;
    zpat::replier server("@tcp://127.0.0.1:*", keys.server_options());
    const auto refused_within = [&](zpat::options opts, const std::string& reason) {
        opts.request_timeout = 5s;
        opts.retries = 3;
        zpat::requester client(">" + server.endpoints()[0], opts);
        const auto start = std::chrono::steady_clock::now();
        CHECK_THROWS_AS(client.request(message{"let me in"}), zpat::security_error);
        CHECK(std::chrono::steady_clock::now() - start < 2s);
        CHECK_THROWS_WITH(client.request(message{"again"}), Catch::Contains(reason));
    };
    refused_within(keys.client_options(keys.stranger),
                   "the server refused this client's CURVE key");
    zpat::options misled = keys.client_options(keys.client);
    misled.curve->server_key = keys.stranger.public_key;
    refused_within(misled, "closed the connection during the CURVE handshake");
    CHECK_FALSE(server.receive(100ms));
}

TEST_CASE(
    "a CURVE server with no allowed clients fails closed unless allow_any_client says "
    "so, which is logged") {
    const curve_world keys;
    CHECK_THROWS_WITH(
        zpat::puller("@tcp://127.0.0.1:*", {.curve = zpat::curve_options{.keys = keys.server}}),
        Catch::Contains("would let no client in"));

    captured_stderr log;
    zpat::puller sink("@tcp://127.0.0.1:*", {.curve = zpat::curve_options{
                                                 .keys = keys.server, .allow_any_client = true}});
    CHECK(log.text().find("accepts any client key (allow_any_client)") != std::string::npos);
    zpat::pusher anyone(">" + sink.endpoints()[0], keys.client_options(keys.stranger));
    REQUIRE(anyone.send(message{"hello"}));
    const auto got = sink.receive(5s);
    REQUIRE(got);
    CHECK(*got == message{"hello"});
    // A NULL client is still refused: the traffic is encrypted or there is none.
    zpat::pusher plain(">" + sink.endpoints()[0]);
    REQUIRE(plain.send(message{"plain"}));
    CHECK_FALSE(sink.receive(300ms));
}

TEST_CASE("CURVE options that cannot work are refused at construction, naming the field") {
    const curve_world keys;
    auto server_with = [&](zpat::curve_options curve) {
        return zpat::options{.curve = std::move(curve)};
    };
    CHECK_THROWS_WITH(
        zpat::puller(
            "@tcp://127.0.0.1:*",
            server_with({.keys = {.public_key = "short", .secret_key = keys.server.secret_key},
                         .allow_any_client = true})),
        Catch::Contains("options::curve.keys.public_key is not a CURVE key"));
    CHECK_THROWS_WITH(zpat::puller("@tcp://127.0.0.1:*",
                                   server_with({.keys = {.public_key = keys.client.public_key,
                                                         .secret_key = keys.server.secret_key},
                                                .allow_any_client = true})),
                      Catch::Contains("is not the public key's pair"));
    CHECK_THROWS_WITH(
        zpat::puller("@tcp://127.0.0.1:*",
                     server_with({.keys = keys.server, .allowed_clients = {"not a key"}})),
        Catch::Contains("options::curve.allowed_clients[] is not a CURVE key"));
    CHECK_THROWS_WITH(
        zpat::pusher(">tcp://127.0.0.1:5", server_with({.keys = keys.client,
                                                        .server_key = keys.server.public_key,
                                                        .allow_any_client = true})),
        Catch::Contains("allow_any_client and allowed_addresses are a server's"));
    const auto any = server_with({.keys = keys.server, .allow_any_client = true});
    CHECK_THROWS_AS(zpat::puller("@raw+tcp://127.0.0.1:*", any), zpat::unsupported_error);
    CHECK_THROWS_WITH(zpat::puller("@raw+tcp://127.0.0.1:*", any),
                      Catch::Contains("raw+tcp takes no CURVE"));
    CHECK_THROWS_WITH(zpat::subscriber("@raw+udp://127.0.0.1:*", {""}, any),
                      Catch::Contains("raw+udp takes no CURVE"));
    CHECK_THROWS_WITH(zpat::puller("@" + any_endpoint("inproc"), any),
                      Catch::Contains("with no handshake to secure"));
    CHECK_THROWS_WITH(zpat::stream("@tcp://127.0.0.1:*", any),
                      Catch::Contains("a ZMQ_STREAM carries plain bytes"));
}

TEST_CASE(
    "CURVE certificates are written private, read back, and refused when loose or "
    "malformed") {
    const temporary_directory dir;
    const zpat::curve_keys keys = zpat::make_curve_keys();
    const fs::path base = dir.path() / "server";
    zpat::write_curve_certificates(base, keys);

    struct stat info {};
    REQUIRE(::stat((base.string() + "_secret").c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0600);
    const zpat::curve_keys secret = zpat::read_curve_certificate(base.string() + "_secret");
    CHECK(secret.public_key == keys.public_key);
    CHECK(secret.secret_key == keys.secret_key);
    const zpat::curve_keys public_only = zpat::read_curve_certificate(base);
    CHECK(public_only.public_key == keys.public_key);
    CHECK(public_only.secret_key.empty());

    // Never over an existing key.
    CHECK_THROWS_WITH(zpat::write_curve_certificates(base, zpat::make_curve_keys()),
                      Catch::Contains("File exists"));

    // A secret others may read is refused, with the fix.
    fs::permissions(base.string() + "_secret", fs::perms::group_read, fs::perm_options::add);
    CHECK_THROWS_WITH(zpat::read_curve_certificate(base.string() + "_secret"),
                      Catch::Contains("permissions are 0640") && Catch::Contains("chmod 600"));

    auto write = [&](const std::string& name, const std::string& text) {
        std::ofstream(dir.path() / name) << text;
        return dir.path() / name;
    };
    CHECK_THROWS_WITH(zpat::read_curve_certificate(write("tabs", "curve\n\tpublic-key = \"x\"\n")),
                      Catch::Contains("line 2: is not ZPL"));
    CHECK_THROWS_WITH(
        zpat::read_curve_certificate(write("badkey", "curve\n    public-key = \"abc\"\n")),
        Catch::Contains("line 2: public-key is not a CURVE key"));
    CHECK_THROWS_WITH(zpat::read_curve_certificate(write("empty", "metadata\n")),
                      Catch::Contains("has no public-key"));
    CHECK_THROWS_WITH(zpat::read_curve_certificate(write("big", std::string(70000, '#'))),
                      Catch::Contains("a certificate is at most 64 KiB"));
    CHECK_THROWS_WITH(zpat::read_curve_certificate(dir.path() / "absent"),
                      Catch::Contains("cannot be read"));

    // An allow directory takes every public certificate and skips secret ones.
    const temporary_directory allowed;
    const zpat::curve_keys a = zpat::make_curve_keys();
    const zpat::curve_keys b = zpat::make_curve_keys();
    zpat::write_curve_certificates(allowed.path() / "a", a);
    zpat::write_curve_certificates(allowed.path() / "b", b);
    CHECK(zpat::read_allowed_keys(allowed.path()) ==
          std::vector<std::string>{a.public_key, b.public_key});
    CHECK(zpat::read_allowed_keys(allowed.path() / "a") == std::vector<std::string>{a.public_key});
    const temporary_directory none;
    CHECK_THROWS_WITH(zpat::read_allowed_keys(none.path()),
                      Catch::Contains("holds no public certificate"));
}

TEST_CASE("address blocks parse IPv4 and IPv6 with prefixes and match what ZAP reports") {
    using zpat::detail::address_block;
    const auto block = [](std::string_view text) {
        auto parsed = address_block::parse(text);
        REQUIRE(parsed);
        return *parsed;
    };
    CHECK(block("10.0.0.0/8").contains("10.200.3.4"));
    CHECK_FALSE(block("10.0.0.0/8").contains("11.0.0.1"));
    CHECK(block("192.168.1.128/25").contains("192.168.1.200"));
    CHECK_FALSE(block("192.168.1.128/25").contains("192.168.1.127"));
    CHECK(block("127.0.0.1").contains("127.0.0.1"));
    CHECK_FALSE(block("127.0.0.1").contains("127.0.0.2"));
    CHECK(block("0.0.0.0/0").contains("203.0.113.9"));
    CHECK(block("fd00::/8").contains("fd12:3456::1"));
    CHECK_FALSE(block("fd00::/8").contains("fe80::1"));
    CHECK(block("127.0.0.0/8").contains("::ffff:127.0.0.1"));  // IPv4 seen through IPv6
    CHECK_FALSE(block("::1").contains("127.0.0.1"));
    CHECK_FALSE(block("10.0.0.0/8").contains("not an address"));
    for (const char* bad : {"", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/8x", "300.1.1.1", "::1/129",
                            "host.example", "10.0.0.0/-1"}) {
        CAPTURE(bad);
        CHECK_FALSE(address_block::parse(bad));
    }
}

TEST_CASE("a CURVE server with allowed_addresses takes allowed keys from those addresses only") {
    const curve_world keys;
    captured_stderr log;
    const auto served_with = [&](std::vector<std::string> addresses) {
        zpat::options opts = keys.server_options();
        opts.curve->allowed_addresses = std::move(addresses);
        zpat::puller sink("@tcp://127.0.0.1:*", opts);
        zpat::pusher source(">" + sink.endpoints()[0], keys.client_options(keys.client));
        REQUIRE(source.send(message{"from 127.0.0.1"}));
        const bool served = sink.receive(500ms).has_value();
        CHECK(served == (sink.connections().refused == 0));
        return served;
    };
    CHECK(served_with({"127.0.0.0/8"}));
    CHECK(served_with({"192.0.2.0/24", "127.0.0.1"}));
    CHECK_FALSE(served_with({"127.0.0.2"}));
    CHECK_FALSE(served_with({"::1"}));
    CHECK(log.text().find("refused a CURVE client from 127.0.0.1: its address is not on the "
                          "allowed list") != std::string::npos);
    zpat::options bad = keys.server_options();
    bad.curve->allowed_addresses = {"10.0.0.0/33"};
    CHECK_THROWS_WITH(zpat::puller("@tcp://127.0.0.1:*", bad),
                      Catch::Contains("options::curve.allowed_addresses has '10.0.0.0/33'"));
}
