#pragma once
// The raw backend's own relay, from an xsubscriber to a publisher or xpublisher (or between
// zpat's own ZeroMQ XSUB and XPUB): the messages pass through as the wire encoded them. The
// xsubscriber's reads arrive as encoded batches (checked as they came, never decoded); the relay
// hands each batch's bytes to the publisher, which matches every topic in place and appends each
// message's bytes to the queue of every subscriber it matches, a batch under one lock, so
// forwarding a message costs a trie walk and a copy of its bytes.

#include <cstddef>
#include <memory>
#include <string_view>

#include "seam/backend.hpp"

namespace zpat::detail {

// How a cell's encoded messages are framed: as the raw wire frames them, or as ZMTP does (zpat's
// own ZeroMQ sockets, zmtp_xsub.hpp and zmtp_xpub.hpp). Bytes pass through only between cells
// that frame them alike.
enum class framing { raw_wire, zmtp };

// A cell whose messages wait as encoded batches.
class encoded_source {
  public:
    virtual framing encoding() const noexcept { return framing::raw_wire; }
    // The bytes of the whole messages waiting next, without waiting; empty when none waits.
    // Valid until took_encoded() or the next call.
    virtual std::string_view next_encoded() = 0;
    // The first `bytes` of what next_encoded() gave (whole messages) have been taken.
    virtual void took_encoded(std::size_t bytes) = 0;
    // Whether messages already read wait to be given, so that next_encoded() gives them without
    // reading: false when it would read anew, a round of reads being over.
    virtual bool holds_read() const noexcept { return false; }

  protected:
    encoded_source() = default;
    ~encoded_source() = default;
    encoded_source(const encoded_source&) = default;
    encoded_source& operator=(const encoded_source&) = default;
};

// What an encoded_sink took of the messages it was given.
struct encoded_sent {
    std::size_t bytes = 0;     // encoded, from the front: whole messages
    std::size_t messages = 0;  // sent
    std::size_t payload = 0;   // their frames' bytes, as message::byte_size() counts
    bool refused = false;      // stopped at a message the sink's limits refuse
};

// A cell that sends messages encoded as they are.
class encoded_sink {
  public:
    virtual framing encoding() const noexcept { return framing::raw_wire; }
    // Sends the whole messages in `encoded` as its send() would send them decoded (under one
    // lock, waiting for room only as send() would, and only before the first has gone).
    virtual encoded_sent send_encoded(std::string_view encoded) = 0;
    // What send_encoded() refuses a message for.
    virtual const options& send_limits() const = 0;
    // The relay's source has given all it had read (it reads anew next, or has nothing): what
    // send_encoded() kept back, to write it together with what came next, is written (a sink
    // that writes as it goes has nothing).
    virtual void flush_encoded() {}

  protected:
    encoded_sink() = default;
    ~encoded_sink() = default;
    encoded_sink(const encoded_sink&) = default;
    encoded_sink& operator=(const encoded_sink&) = default;
};

// The pass-through relay when `from` is an encoded_source and `to` an encoded_sink that frame
// messages alike, else nullptr.
std::unique_ptr<relay_impl> make_raw_relay(receiver_impl& from, sender_impl& to);

}  // namespace zpat::detail
