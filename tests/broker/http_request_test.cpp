// The HTTP gate's test of a whole request (broker/daemon/http_gate.hpp): what it hands to a
// serving thread, what it keeps reading, and what it cuts before reading more. The gate itself,
// against clients that trickle, send half a request or pipeline, runs against zpat-broker in
// tests/interop/broker_http_limits.py.

#include <catch2/catch.hpp>
#include <string>

#include "http_gate.hpp"

using zpat::broker::too_large;
using zpat::broker::whole_request_size;

namespace {

constexpr std::size_t limit = std::size_t{64} * 1024;
const std::string get = "GET /stats HTTP/1.1\r\nHost: x\r\n\r\n";

}  // namespace

TEST_CASE("a request is whole at the end of its head, and of the body its length announces") {
    CHECK(whole_request_size(get, limit) == get.size());
    const std::string post = "POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
    CHECK(whole_request_size(post, limit) == post.size());
    // Header names are not case-sensitive, and spaces around the value do not count.
    const std::string lower = "POST /x HTTP/1.1\r\ncontent-LENGTH:  3 \r\n\r\nabc";
    CHECK(whole_request_size(lower, limit) == lower.size());
    // A header whose name only begins like Content-Length is another header.
    const std::string other = "GET / HTTP/1.1\r\nContent-Length-X: 9\r\n\r\n";
    CHECK(whole_request_size(other, limit) == other.size());
}

TEST_CASE("a request that has not all arrived is not whole yet") {
    CHECK(whole_request_size("", limit) == 0);
    CHECK(whole_request_size("GET /stats HTTP/1.1\r\nHost: x\r\n", limit) == 0);
    CHECK(whole_request_size("GET /stats HTTP/1.1\r\nHost: x\r\n\r", limit) == 0);
    CHECK(whole_request_size("POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhell", limit) == 0);
}

TEST_CASE("of pipelined requests only the first is measured, however much follows") {
    CHECK(whole_request_size(get + get + "GET /", limit) == get.size());
    const std::string post = "POST /x HTTP/1.1\r\nContent-Length: 2\r\n\r\nok";
    CHECK(whole_request_size(post + get, limit) == post.size());
}

TEST_CASE("a request over the limit is cut as soon as that is known, before its bytes come") {
    // Head lines without end.
    CHECK(whole_request_size(std::string(limit + 1, 'a'), limit) == too_large);
    CHECK(whole_request_size(std::string(limit, 'a'), limit) == 0);
    // A head over the limit that does end.
    CHECK(whole_request_size("GET / HTTP/1.1\r\nX: " + std::string(limit, 'a') + "\r\n\r\n",
                             limit) == too_large);
    // A body announced over the limit, before any of it comes; and one just within.
    CHECK(whole_request_size("POST /x HTTP/1.1\r\nContent-Length: 65536\r\n\r\n", limit) ==
          too_large);
    const std::string head =
        "POST /x HTTP/1.1\r\nContent-Length: " + std::to_string(limit - 43) + "\r\n\r\n";
    REQUIRE(head.size() == 43);
    CHECK(whole_request_size(head, limit) == 0);
    CHECK(whole_request_size(head + std::string(limit - 43, 'b'), limit) == limit);
    // A length that does not fit in a size_t.
    CHECK(whole_request_size("POST /x HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
                             limit) == too_large);
}

TEST_CASE("a head the gate cannot size whole is handed on for the server to read or refuse") {
    // A chunked body: the server reads it under the same deadline.
    const std::string chunked = "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    CHECK(whole_request_size(chunked + "5\r\nhel", limit) == chunked.size());
    // A length that is not a number: the server answers 400.
    const std::string bad = "POST /x HTTP/1.1\r\nContent-Length: five\r\n\r\n";
    CHECK(whole_request_size(bad, limit) == bad.size());
    const std::string negative = "POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n";
    CHECK(whole_request_size(negative, limit) == negative.size());
}
