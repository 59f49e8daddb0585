#pragma once
// The errors zpat throws. Timeouts and would-block are not errors: they come back as an empty
// std::optional or `false`. Every message names what was wrong and where.

#include <stdexcept>
#include <string>

namespace zpat {

// Base of every zpat error; catch this to handle them all.
class error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// An endpoint string that cannot be parsed, names an unknown scheme, or has an address its
// backend cannot use. A mistake in the program or its configuration.
class endpoint_error : public error {
  public:
    using error::error;
};

// An options field out of its range (a negative high-water mark, a zero message size limit, a
// negative timeout other than forever). Names the field and the value. Thrown at construction.
class option_error : public error {
  public:
    using error::error;
};

// A well-formed endpoint that could not be bound or connected at run time (address in use, no
// such interface).
class connection_error : public error {
  public:
    using error::error;
};

// A pattern x backend combination that zpat does not build. Thrown at construction.
class unsupported_error : public error {
  public:
    using error::error;
};

// A message larger than options::max_message_size, refused before it is sent.
class message_size_error : public error {
  public:
    using error::error;
};

// A msgpack body that is malformed, exceeds the decode limits, or is not of the requested type.
class decode_error : public error {
  public:
    using error::error;
};

// A role used against its protocol, such as a reply with no request pending.
class state_error : public error {
  public:
    using error::error;
};

// A key or certificate that cannot be used: a file that cannot be read, is malformed, or holds a
// secret key that others may read; a key that is not 40 characters of Z85. Names the file and,
// where there is one, the line. Also a requester whose CURVE handshake a server refused, with
// what to check.
class security_error : public error {
  public:
    using error::error;
};

}  // namespace zpat
