#pragma once
// The makers of the raw backend's cells, one per file (raw_<role>.cpp).

#include <memory>
#include <vector>

#include "inbox.hpp"
#include "pipe_set.hpp"
#include "seam/registry.hpp"

namespace zpat::detail {

// What every receiving cell on raw TCP has: its pipes and its inbox. The final role owns the
// pipe_events (it knows what arrivals mean) and closes the pipes in its own destructor, while
// everything the events touch is still there.
template <class Interface>
class raw_receiving_cell : public Interface {
  public:
    raw_receiving_cell(wire::role self, const std::vector<endpoint>& endpoints, const options& opts,
                       inbox::taking how)
        : pipes_(pipe_set::open(self, endpoints, opts, false)), inbox_(*pipes_, how) {}

    bool receive(message& into, milliseconds timeout) override {
        return inbox_.receive(into, timeout);
    }
    std::uint64_t oversized_dropped() const noexcept override {
        return 0;  // the peer is cut off instead
    }
    poll_handle handle() const override { return poll_handle::descriptor(inbox_.readable_fd()); }
    const std::vector<std::string>& endpoints() const override { return pipes_->endpoints(); }
    connection_counts connections() const override { return pipes_->counts(); }
    std::vector<connection_info> open_connections() const override { return pipes_->describe(); }

  protected:
    std::shared_ptr<pipe_set> pipes_;
    inbox inbox_;
};

std::unique_ptr<requester_impl> make_raw_requester(const std::vector<endpoint>&, const options&);
std::unique_ptr<replier_impl> make_raw_replier(const std::vector<endpoint>&, const options&);
std::unique_ptr<sender_impl> make_raw_pusher(const std::vector<endpoint>&, const options&);
std::unique_ptr<receiver_impl> make_raw_puller(const std::vector<endpoint>&, const options&);
std::unique_ptr<publisher_impl> make_raw_publisher(const std::vector<endpoint>&, const options&);
std::unique_ptr<subscriber_impl> make_raw_subscriber(const std::vector<endpoint>&, const options&);
std::unique_ptr<xpublisher_impl> make_raw_xpublisher(const std::vector<endpoint>&, const options&);
std::unique_ptr<xsubscriber_impl> make_raw_xsubscriber(const std::vector<endpoint>&,
                                                       const options&);
std::unique_ptr<stream_impl> make_raw_stream(const std::vector<endpoint>&, const options&);

std::unique_ptr<requester_impl> make_raw_udp_requester(const std::vector<endpoint>&,
                                                       const options&);
std::unique_ptr<replier_impl> make_raw_udp_replier(const std::vector<endpoint>&, const options&);
std::unique_ptr<publisher_impl> make_raw_udp_publisher(const std::vector<endpoint>&,
                                                       const options&);
std::unique_ptr<subscriber_impl> make_raw_udp_subscriber(const std::vector<endpoint>&,
                                                         const options&);
std::unique_ptr<datagram_impl> make_raw_datagram(const std::vector<endpoint>&, const options&);

}  // namespace zpat::detail
