// raw+tls: the raw wire format inside TLS. Who gets in, who does not, what each side is told,
// and the options that cannot work. Modelled on the cases of NATS's TLS tests
// (server/test/tls_test.go: wrong CA, expired certificate, client certificate required, a
// plain client at a TLS port) and OpenSSL's s_client/s_server verification results.

#include <catch2/catch.hpp>
#include <filesystem>
#include <thread>

#include "support/captured_stderr.hpp"
#include "support/plain_socket.hpp"
#include "support/subscriber_checks.hpp"
#include "support/temporary_directory.hpp"
#include "support/test_support.hpp"
#include "test_certificates.hpp"
#include "zpat/zpat.hpp"

using namespace zpat::testing;
using zpat::message;

namespace {

namespace fs = std::filesystem;

struct tls_world {
    temporary_directory dir;
    test_certificates files = make_test_certificates(dir.path());

    zpat::options server(bool mutual = false) const {
        return {.tls = zpat::tls_options{.certificate = files.server,
                                         .private_key = files.server_key,
                                         .trusted_ca = mutual ? files.ca.string() : "",
                                         .require_client_certificate = mutual}};
    }
    zpat::options client() const { return {.tls = zpat::tls_options{.trusted_ca = files.ca}}; }
    zpat::options client_with(const fs::path& cert, const fs::path& key) const {
        zpat::options opts = client();
        opts.tls->certificate = cert;
        opts.tls->private_key = key;
        return opts;
    }
};

// One request through `client` to `server`, answered by a thread.
std::optional<message> one_request(zpat::replier& server, zpat::requester& client,
                                   const message& request) {
    std::thread serving([&] {
        if (auto got = server.receive(5s)) {
            server.reply(*got);
        }
    });
    auto reply = client.request(request);
    serving.join();
    return reply;
}

// The requester fails at once with security_error saying `reason`, not after its attempts.
void refused_within_two_seconds(zpat::requester& client, const std::string& reason) {
    const auto start = std::chrono::steady_clock::now();
    CHECK_THROWS_AS(client.request(message{"let me in"}), zpat::security_error);
    CHECK(std::chrono::steady_clock::now() - start < 2s);
    CHECK_THROWS_WITH(client.request(message{"again"}), Catch::Contains(reason));
}

}  // namespace

TEST_CASE("raw+tls carries request-reply and pipelines and pub-sub and streams") {
    const tls_world pki;
    {
        zpat::replier server("@raw+tls://127.0.0.1:*", pki.server());
        zpat::requester client(">" + server.endpoints()[0], pki.client());
        const message big{std::string(200000, 'x'), "two frames"};  // many TLS records
        const auto reply = one_request(server, client, big);
        REQUIRE(reply);
        CHECK(*reply == big);
        const auto again = one_request(server, client, message{"small"});
        REQUIRE(again);
        CHECK(*again == message{"small"});
    }
    {
        zpat::puller sink("@raw+tls://127.0.0.1:*", pki.server());
        zpat::pusher source(">" + sink.endpoints()[0], pki.client());
        for (int i = 0; i < 1000; ++i) {
            REQUIRE(source.send(message{std::to_string(i)}));
        }
        for (int i = 0; i < 1000; ++i) {
            const auto got = sink.receive(5s);
            REQUIRE(got);
            REQUIRE(*got == message{std::to_string(i)});
        }
    }
    {
        zpat::publisher pub("@raw+tls://127.0.0.1:*", pki.server());
        zpat::subscriber sub(">" + pub.endpoints()[0], {"t"}, pki.client());
        REQUIRE(pub.wait_for_subscriptions(1, 5s));
        REQUIRE(pub.send(message{"u", "not this"}));
        REQUIRE(pub.send(message{"t", "news"}));
        const auto got = sub.receive(5s);
        REQUIRE(got);
        CHECK(*got == message{"t", "news"});
    }
    {
        zpat::stream server("@raw+tls://127.0.0.1:*", pki.server());
        zpat::stream client(">" + server.endpoints()[0], pki.client());
        std::optional<zpat::stream::connection_id> to_server;
        REQUIRE(eventually([&] {
            if (auto e = client.receive(10ms); e && e->what == zpat::stream_event::type::opened) {
                to_server = e->connection;
            }
            return to_server.has_value();
        }));
        REQUIRE(client.send(*to_server, "plain bytes, encrypted"));
        std::string arrived;
        REQUIRE(eventually([&] {
            if (auto e = server.receive(10ms); e && e->what == zpat::stream_event::type::data) {
                arrived += e->bytes;
            }
            return arrived == "plain bytes, encrypted";
        }));
    }
}

TEST_CASE(
    "a raw+tls client refuses a server it cannot trust and says why within two seconds: "
    "another CA or an expired certificate or the wrong name") {
    const tls_world pki;
    zpat::replier server("@raw+tls://127.0.0.1:*", pki.server());
    const std::string at = ">" + server.endpoints()[0];
    {
        zpat::options other = pki.client();
        other.tls->trusted_ca = pki.files.other_ca;
        zpat::requester client(at, other);
        refused_within_two_seconds(client, "certificate verify failed");
    }
    {
        zpat::options misnamed = pki.client();
        misnamed.tls->server_name = "example.org";
        zpat::requester client(at, misnamed);
        refused_within_two_seconds(client, "hostname mismatch");
    }
    {
        zpat::replier stale("@raw+tls://127.0.0.1:*",
                            {.tls = zpat::tls_options{.certificate = pki.files.expired,
                                                      .private_key = pki.files.expired_key}});
        zpat::requester client(">" + stale.endpoints()[0], pki.client());
        refused_within_two_seconds(client, "certificate has expired");
        CHECK(eventually([&] { return stale.connections().refused >= 1; }));
    }
    // The server counted each refusal, and serves a client that trusts it.
    CHECK(eventually([&] { return server.connections().refused >= 2; }));
    zpat::requester honest(at, pki.client());
    const auto reply = one_request(server, honest, message{"hello"});
    REQUIRE(reply);
    CHECK(*reply == message{"hello"});
}

TEST_CASE(
    "a raw+tls server that requires client certificates refuses clients without one or "
    "with one from another CA and serves the others") {
    const tls_world pki;
    captured_stderr log;
    zpat::replier server("@raw+tls://127.0.0.1:*", pki.server(true));
    const std::string at = ">" + server.endpoints()[0];
    {
        zpat::requester anonymous(at, pki.client());
        refused_within_two_seconds(anonymous, "certificate required");
    }
    {
        zpat::requester stranger(at, pki.client_with(pki.files.stranger, pki.files.stranger_key));
        refused_within_two_seconds(stranger, "TLS");
    }
    CHECK(eventually([&] { return server.connections().refused >= 2; }));
    CHECK(eventually(
        [&] { return log.text().find("TLS handshake with 127.0.0.1:") != std::string::npos; }));
    zpat::requester member(at, pki.client_with(pki.files.client, pki.files.client_key));
    const auto reply = one_request(server, member, message{"member"});
    REQUIRE(reply);
    CHECK(*reply == message{"member"});
}

TEST_CASE(
    "plain TCP and garbage at a raw+tls port are refused and counted with the server "
    "unharmed and a TLS client at a plain port is told why") {
    const tls_world pki;
    zpat::puller sink("@raw+tls://127.0.0.1:*", pki.server());
    zpat::pusher plain(">raw+tcp://" + sink.endpoints()[0].substr(10), {.linger = 0ms});
    REQUIRE(plain.send(message{"in the clear"}));
    {
        plain_socket garbage(sink.endpoints()[0]);
        garbage.send_all(std::string(300, '\x16'));
        CHECK(garbage.closed_by_peer());
    }
    CHECK(eventually([&] { return sink.connections().refused >= 2; }));
    zpat::pusher honest(">" + sink.endpoints()[0], pki.client());
    REQUIRE(honest.send(message{"sealed"}));
    const auto got = sink.receive(5s);
    REQUIRE(got);
    CHECK(*got == message{"sealed"});
    CHECK_FALSE(sink.receive(300ms));

    captured_stderr log;
    zpat::replier cleartext("@raw+tcp://127.0.0.1:*");
    zpat::requester client(">raw+tls://" + cleartext.endpoints()[0].substr(10), pki.client());
    refused_within_two_seconds(client, "TLS handshake with 127.0.0.1:");
    CHECK(eventually([&] { return cleartext.connections().refused >= 1; }));
    CHECK(eventually([&] {
        return log.text().find("the peer speaks TLS, and this endpoint does not") !=
               std::string::npos;
    }));
}

TEST_CASE("a raw+tls xsubscriber takes a stream whole and in order, however its reads split it") {
    const tls_world pki;
    zpat::options lossless = pki.server();
    lossless.send_timeout = 5s;
    lossless.block_when_full = true;
    zpat::publisher pub("@raw+tls://127.0.0.1:*", lossless);
    zpat::xsubscriber xsub(">" + pub.endpoints()[0], pki.client());
    xsub.subscribe("s");
    REQUIRE(pub.wait_for_subscriptions(1, 5s));
    xsubscriber_takes_every_split(pub, xsub);
}

TEST_CASE("TLS options that cannot work are refused at construction and say what is wrong") {
    const tls_world pki;
    const zpat::options tls = pki.server();
    CHECK_THROWS_WITH(zpat::publisher("@raw+udp://127.0.0.1:*", tls),
                      Catch::Contains("raw+udp takes no TLS"));
    CHECK_THROWS_AS(zpat::publisher("@raw+udp://127.0.0.1:*", tls), zpat::unsupported_error);
    CHECK_THROWS_WITH(zpat::publisher("@raw+tcp://127.0.0.1:*", tls),
                      Catch::Contains("write raw+tls://"));
    CHECK_THROWS_WITH(zpat::publisher("@tcp://127.0.0.1:*", tls),
                      Catch::Contains("secured with CURVE"));
    CHECK_THROWS_WITH(zpat::publisher("@raw+tls://127.0.0.1:*"),
                      Catch::Contains("needs a certificate and its private key"));
    CHECK_THROWS_WITH(zpat::datagram("@raw+tls://127.0.0.1:*", tls),
                      Catch::Contains("a datagram on raw+tls://"));

    zpat::options mutual_without_ca = tls;
    mutual_without_ca.tls->require_client_certificate = true;
    CHECK_THROWS_WITH(zpat::publisher("@raw+tls://127.0.0.1:*", mutual_without_ca),
                      Catch::Contains("require_client_certificate needs trusted_ca"));

    zpat::options missing = tls;
    missing.tls->certificate = (pki.dir.path() / "nowhere.pem").string();
    CHECK_THROWS_WITH(zpat::publisher("@raw+tls://127.0.0.1:*", missing),
                      Catch::Contains("nowhere.pem") && Catch::Contains("cannot be read"));
    zpat::options mismatched = tls;
    mismatched.tls->private_key = pki.files.client_key;
    CHECK_THROWS_WITH(zpat::publisher("@raw+tls://127.0.0.1:*", mismatched),
                      Catch::Contains("does not belong to certificate"));
    zpat::options not_pem = tls;
    not_pem.tls->certificate = pki.files.server_key;  // a key, not a certificate
    CHECK_THROWS_WITH(zpat::publisher("@raw+tls://127.0.0.1:*", not_pem),
                      Catch::Contains("is not a PEM certificate chain"));

    fs::permissions(pki.files.server_key, fs::perms::group_read | fs::perms::others_read,
                    fs::perm_options::add);
    CHECK_THROWS_WITH(zpat::publisher("@raw+tls://127.0.0.1:*", tls),
                      Catch::Contains("chmod 600") && Catch::Contains("server.key"));
    CHECK_THROWS_AS(zpat::publisher("@raw+tls://127.0.0.1:*", tls), zpat::security_error);
    fs::permissions(pki.files.server_key, fs::perms::group_read | fs::perms::others_read,
                    fs::perm_options::remove);

    // TLS is the secure way beyond loopback: no allow_insecure needed.
    CHECK_NOTHROW(zpat::check_offered(zpat::role_kind::publisher, "@raw+tls://0.0.0.0:0", tls));
}
