// The raw backend: zpat's own wire format (docs/wire-format.md) on plain TCP, and its UDP
// counterpart, whose cells are not built yet and say so at construction.

#include <string>

#include "raw_cells.hpp"
#include "zpat/core/error.hpp"

namespace zpat::detail {
namespace {

class raw_tcp_transport final : public backend {
  public:
    std::string_view name() const override { return "raw+tcp"; }
    std::unique_ptr<requester_impl> make_requester(const std::vector<endpoint>& e,
                                                   const options& o) override {
        return make_raw_requester(e, o);
    }
    std::unique_ptr<replier_impl> make_replier(const std::vector<endpoint>& e,
                                               const options& o) override {
        return make_raw_replier(e, o);
    }
    std::unique_ptr<sender_impl> make_pusher(const std::vector<endpoint>& e,
                                             const options& o) override {
        return make_raw_pusher(e, o);
    }
    std::unique_ptr<receiver_impl> make_puller(const std::vector<endpoint>& e,
                                               const options& o) override {
        return make_raw_puller(e, o);
    }
    std::unique_ptr<publisher_impl> make_publisher(const std::vector<endpoint>& e,
                                                   const options& o) override {
        return make_raw_publisher(e, o);
    }
    std::unique_ptr<subscriber_impl> make_subscriber(const std::vector<endpoint>& e,
                                                     const options& o) override {
        return make_raw_subscriber(e, o);
    }
};

// Every cell refuses, naming itself: a cell that is not built never half-works.
class raw_udp_transport final : public backend {
  public:
    std::string_view name() const override { return "raw+udp"; }
    std::unique_ptr<requester_impl> make_requester(const std::vector<endpoint>&,
                                                   const options&) override {
        refuse("requester");
    }
    std::unique_ptr<replier_impl> make_replier(const std::vector<endpoint>&,
                                               const options&) override {
        refuse("replier");
    }
    std::unique_ptr<sender_impl> make_pusher(const std::vector<endpoint>&,
                                             const options&) override {
        refuse("pusher");
    }
    std::unique_ptr<receiver_impl> make_puller(const std::vector<endpoint>&,
                                               const options&) override {
        refuse("puller");
    }
    std::unique_ptr<publisher_impl> make_publisher(const std::vector<endpoint>&,
                                                   const options&) override {
        refuse("publisher");
    }
    std::unique_ptr<subscriber_impl> make_subscriber(const std::vector<endpoint>&,
                                                     const options&) override {
        refuse("subscriber");
    }

  private:
    [[noreturn]] static void refuse(const char* role) {
        throw unsupported_error(
            std::string("a ") + role +
            " on raw+udp:// is not built yet; use raw+tcp:// or a ZeroMQ transport");
    }
};

}  // namespace

void check_raw_sendable(const message& msg, const options& opts) {
    check_sendable(msg, opts.max_message_size);
    if (msg.size() > wire::max_frames) {
        throw message_size_error("message of " + std::to_string(msg.size()) +
                                 " frames exceeds the raw wire format's limit of " +
                                 std::to_string(wire::max_frames));
    }
}

backend& raw_tcp_backend() {
    static raw_tcp_transport instance;
    return instance;
}

backend& raw_udp_backend() {
    static raw_udp_transport instance;
    return instance;
}

}  // namespace zpat::detail
