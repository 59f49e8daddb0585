#pragma once
// ZMTP bytes for tests that play a ZeroMQ peer by hand (RFC 23), to reach a libzmq socket with
// what no libzmq peer would send.

#include <string>

namespace zpat::testing {

// A ZMTP 3.0 greeting for the NULL mechanism, as a client.
inline std::string zmtp_null_greeting() {
    std::string greeting("\xff\0\0\0\0\0\0\0\0\x7f\x03\x00", 12);  // signature, version 3.0
    greeting += "NULL" + std::string(16, '\0');                    // mechanism, padded to 20
    greeting += std::string(1 + 31, '\0');                         // as-server, filler
    return greeting;
}

// A HELLO command: the NULL handshake must begin with READY, so this one is out of turn.
inline std::string zmtp_hello_command() {
    return {"\x04\x06\x05HELLO", 8};
}

}  // namespace zpat::testing
