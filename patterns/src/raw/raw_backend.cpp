// The raw backend: zpat's own wire format (docs/wire-format.md) on plain TCP and on UDP.

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

// Request-reply and pub-sub over datagrams. A pipeline needs flow control (a pusher waits for a
// slow puller), which UDP does not have, so those cells refuse, naming the combination.
class raw_udp_transport final : public backend {
  public:
    std::string_view name() const override { return "raw+udp"; }
    std::unique_ptr<requester_impl> make_requester(const std::vector<endpoint>& e,
                                                   const options& o) override {
        return make_raw_udp_requester(e, o);
    }
    std::unique_ptr<replier_impl> make_replier(const std::vector<endpoint>& e,
                                               const options& o) override {
        return make_raw_udp_replier(e, o);
    }
    std::unique_ptr<sender_impl> make_pusher(const std::vector<endpoint>&,
                                             const options&) override {
        refuse_pipeline("pusher");
    }
    std::unique_ptr<receiver_impl> make_puller(const std::vector<endpoint>&,
                                               const options&) override {
        refuse_pipeline("puller");
    }
    std::unique_ptr<publisher_impl> make_publisher(const std::vector<endpoint>& e,
                                                   const options& o) override {
        return make_raw_udp_publisher(e, o);
    }
    std::unique_ptr<subscriber_impl> make_subscriber(const std::vector<endpoint>& e,
                                                     const options& o) override {
        return make_raw_udp_subscriber(e, o);
    }

  private:
    [[noreturn]] static void refuse_pipeline(const char* role) {
        throw unsupported_error(std::string("a ") + role +
                                " on raw+udp:// is not supported: a pipeline needs flow control, "
                                "which UDP does not have; use raw+tcp://");
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
