// Requester over raw UDP: each request carries an id; a retry resends the same id (so the
// replier can recognise it) and a reply with any other id is a late one, ignored. A replier
// that answers with a cookie (a reply larger than the request, to an address it has not seen
// prove itself) gets the request again at once with the cookie, and every later one carries it.

#include <random>

#include "raw_cells.hpp"
#include "udp.hpp"
#include "zpat/core/error.hpp"

namespace zpat::detail {
namespace {

class raw_udp_requester final : public requester_impl {
  public:
    raw_udp_requester(const std::vector<endpoint>& endpoints, const options& opts)
        : opts_(opts), channel_(endpoints, opts), next_id_(std::random_device{}()) {
        if (channel_.bound()) {
            throw endpoint_error(
                "a raw+udp:// requester sends to its replier: connect ('>'), do not bind");
        }
        endpoints_.push_back(channel_.resolved());
    }

    std::optional<message> request(const message& request) override {
        check_sendable(request, opts_);
        udp::datagram outgoing{wire::role::requester, udp::kind::request, ++next_id_, request,
                               cookie_};
        udp::encode(outgoing, out_);
        int cookies_answered = 0;
        const int attempts = 1 + std::max(0, opts_.retries);
        for (attempts_ = 1; attempts_ <= attempts; ++attempts_) {
            channel_.send(out_);
            const auto deadline = std::chrono::steady_clock::now() + opts_.request_timeout;
            udp::channel::address from;
            for (;;) {
                const auto left = std::chrono::duration_cast<milliseconds>(
                    deadline - std::chrono::steady_clock::now());
                if (left.count() <= 0 || !channel_.receive(in_, from, left)) {
                    break;
                }
                auto reply = udp::decode(in_, wire::role::replier, opts_.max_message_size,
                                         opts_.max_message_frames);
                if (reply && reply->what == udp::kind::reply && reply->id == outgoing.id) {
                    return std::move(reply->body);
                }
                // A few at most: a stream of cookies must not become a stream of requests.
                if (reply && reply->what == udp::kind::cookie && cookies_answered < 3) {
                    ++cookies_answered;
                    cookie_ = reply->id;
                    outgoing.cookie = cookie_;
                    udp::encode(outgoing, out_);
                    channel_.send(out_);
                }
            }
        }
        attempts_ = attempts;
        return std::nullopt;
    }

    int last_attempts() const noexcept override { return attempts_; }
    const std::vector<std::string>& endpoints() const override { return endpoints_; }

  private:
    options opts_;
    udp::channel channel_;
    std::vector<std::string> endpoints_;
    std::uint64_t next_id_;
    std::optional<std::uint64_t> cookie_;  // the replier's, once it has sent one
    std::string out_;
    std::string in_;
    int attempts_ = 0;
};

}  // namespace

std::unique_ptr<requester_impl> make_raw_udp_requester(const std::vector<endpoint>& endpoints,
                                                       const options& opts) {
    return std::make_unique<raw_udp_requester>(endpoints, opts);
}

}  // namespace zpat::detail
