// Stream on ZeroMQ: a ZMQ_STREAM socket, which speaks plain TCP (or a plain ipc:// stream) and
// hands each piece over as [routing id, bytes]. An empty piece is a connection opening (an id
// not seen before) or closing; sending an empty piece closes a connection. Routing ids are
// mapped to the role's numeric connection ids here.

#include <cerrno>
#include <map>

#include "zmq_cells.hpp"
#include "zpat/core/error.hpp"

namespace zpat::detail {
namespace {

class zmq_stream final : public stream_impl {
  public:
    zmq_stream(const std::vector<endpoint>& endpoints, const options& opts)
        : socket_(zmq::socket_type::stream, endpoints, opts), max_send_(opts.max_message_size) {
        // A piece received is what one read brought, bounded by libzmq's read buffer; the
        // size limit is for what the application sends.
        socket_.limit_messages(SIZE_MAX);
    }

    std::optional<stream_event> receive(milliseconds timeout) override {
        if (!socket_.receive(piece_, timeout) || piece_.size() != 2) {
            return std::nullopt;
        }
        const std::string& routing_id = piece_[0];
        auto found = ids_.find(routing_id);
        if (found == ids_.end()) {
            const stream_connection_id id = next_id_++;
            ids_.emplace(routing_id, id);
            routing_ids_.emplace(id, routing_id);
            return stream_event{stream_event::type::opened, id, {}};
        }
        const stream_connection_id id = found->second;
        if (piece_[1].empty()) {
            forget(id);
            return stream_event{stream_event::type::closed, id, {}};
        }
        return stream_event{stream_event::type::data, id, std::move(piece_[1])};
    }

    bool send(stream_connection_id connection, std::string_view bytes) override {
        if (bytes.size() > max_send_) {
            throw message_size_error("stream send of " + std::to_string(bytes.size()) +
                                     " bytes exceeds max_message_size of " +
                                     std::to_string(max_send_) + " bytes");
        }
        if (bytes.empty()) {
            return routing_ids_.contains(connection);  // an empty piece would close it
        }
        return send_piece(connection, bytes);
    }

    // The closing piece goes now or not at all. A peer that has closed first leaves its pipe
    // waiting for this socket to read up to the closing notice, so a send that waited for room
    // there would wait for ever (as the tutorial's server once did under load). A connection
    // whose queue is full at the close stays open until its peer goes.
    void close(stream_connection_id connection) override {
        if (routing_ids_.contains(connection)) {
            (void)send_piece(connection, {}, now);
            forget(connection);
        }
    }

    poll_handle handle() const override { return socket_.handle(); }
    const std::vector<std::string>& endpoints() const override { return socket_.endpoints(); }
    connection_counts connections() const override { return socket_.connections(); }
    std::vector<connection_info> open_connections() const override {
        return socket_.open_connections();
    }

  private:
    enum wait_for_room { within_send_timeout, now };

    bool send_piece(stream_connection_id connection, std::string_view bytes,
                    wait_for_room wait = within_send_timeout) {
        auto found = routing_ids_.find(connection);
        if (found == routing_ids_.end()) {
            return false;
        }
        try {
            const message head{found->second};
            const message body{std::string(bytes)};
            return wait == now ? socket_.send_now(head, body) : socket_.send(head, body);
        } catch (const connection_error&) {  // EHOSTUNREACH: ROUTER_MANDATORY found no route
            forget(connection);              // gone before its closing piece was read
            return false;
        }
    }

    void forget(stream_connection_id connection) {
        auto found = routing_ids_.find(connection);
        if (found == routing_ids_.end()) {
            return;
        }
        ids_.erase(found->second);
        routing_ids_.erase(found);
    }

    zmq_socket socket_;
    std::size_t max_send_;
    message piece_;
    std::map<std::string, stream_connection_id> ids_;
    std::map<stream_connection_id, std::string> routing_ids_;
    stream_connection_id next_id_ = 1;
};

}  // namespace

std::unique_ptr<stream_impl> make_zmq_stream(const std::vector<endpoint>& endpoints,
                                             const options& opts) {
    if (opts.curve) {
        throw unsupported_error(
            "options::curve on a stream is not supported: a ZMQ_STREAM carries plain bytes, "
            "with no ZeroMQ handshake for CURVE to secure");
    }
    for (const endpoint& ep : endpoints) {
        if (ep.scheme == "inproc") {
            throw unsupported_error("a stream on '" + ep.url() +
                                    "' is not supported: a stream is plain bytes on a byte-stream "
                                    "transport; use tcp:// or ipc://");
        }
        if (ep.side == link::connect) {
            // libzmq's connecting ZMQ_STREAM reconnects in silence: it never says that the
            // other side closed, which is how most byte protocols end a reply.
            throw unsupported_error("a stream connecting to '" + ep.url() +
                                    "' is not supported on ZeroMQ: a connecting ZMQ_STREAM is not "
                                    "told when the other side closes; use raw+tcp:// to connect");
        }
    }
    return std::make_unique<zmq_stream>(endpoints, opts);
}

}  // namespace zpat::detail
