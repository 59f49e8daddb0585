// libFuzzer target for the Majordomo broker's protocol, driven with frames alone (no sockets).
// The input is a script: each step is a client request, a worker command, a message of random
// frames, or a jump of the clock, from a handful of peers and service names (some too long,
// some reserved). After every step the broker must hold to what it promises:
// - what it remembers is bounded: services <= max_services, names <= max_service_name, each
//   queue <= max_queue, queued bytes <= max_queued_bytes and zero exactly when nothing waits;
// - its books agree: idle workers <= registered ones, never idle workers beside waiting
//   requests, registered workers <= the peers there are;
// - it sends at most two messages for one received (a reply, and the next request for the
//   worker that sent it), and a REQUEST only to a peer that has sent READY.

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "majordomo_broker.hpp"
#include "zpat/majordomo.hpp"

namespace {

using zpat::message;
using zpat::broker::service_config;
using zpat::broker::detail::majordomo_broker;
using zpat::broker::detail::traffic_counters;
namespace mdp = zpat::mdp;
using clock_type = majordomo_broker::clock;

constexpr std::size_t max_name = 16;
constexpr std::size_t max_services = 4;
constexpr std::size_t max_queue = 3;
constexpr std::size_t max_bytes = 4096;
constexpr std::size_t peers = 8;

void require(bool condition) {
    if (!condition) {
        std::abort();
    }
}

// The script's bytes, read from the front; zeros once used up.
class script {
  public:
    script(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
    bool done() const { return at_ >= size_; }
    std::uint8_t next() { return at_ < size_ ? data_[at_++] : 0; }
    std::string bytes(std::size_t most) {
        const std::size_t n = next() % (most + 1);
        std::string out;
        for (std::size_t i = 0; i < n; ++i) {
            out += static_cast<char>(next());
        }
        return out;
    }

  private:
    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t at_ = 0;
};

std::string peer(std::uint8_t b) {
    return "p" + std::to_string(b % peers);
}

std::string service_name(script& in) {
    const std::uint8_t b = in.next();
    switch (b % 8) {
        case 0:
            return "echo";
        case 1:
            return "a";
        case 2:
            return std::string(mdp::mmi_service);
        case 3:
            return "mmi.other";
        case 4:
            return "";
        case 5:
            return std::string(max_name + (b / 8) % 3, 'n');  // at the limit or past it
        default:
            return "s" + std::to_string(b);  // many distinct names
    }
}

void check_books(const majordomo_broker& broker) {
    const auto table = broker.table();
    require(table.size() <= max_services);
    std::uint64_t registered = 0;
    std::uint64_t waiting = 0;
    for (const auto& row : table) {
        require(row.name.size() <= max_name);
        require(row.waiting_workers <= row.workers);
        require(row.queued == 0 || row.waiting_workers == 0);
        require(row.queued <= max_queue);
        registered += row.workers;
        waiting += row.queued;
    }
    require(registered <= peers);
    const std::uint64_t bytes = broker.counted().queued_bytes.get();
    require(bytes <= max_bytes);
    require((bytes == 0) == (waiting == 0));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
    spdlog::set_level(spdlog::level::off);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const service_config cfg{.heartbeat_interval = std::chrono::milliseconds{100},
                             .heartbeat_liveness = 2,
                             .max_queued_bytes = max_bytes,
                             .max_queue = max_queue,
                             .request_expiry = std::chrono::milliseconds{500},
                             .max_service_name = max_name,
                             .max_services = max_services,
                             .max_unexpected_per_second = 3};
    traffic_counters counts;
    std::vector<message> sent;
    majordomo_broker broker(cfg, counts, [&](const message& m) { sent.push_back(m); });
    std::set<std::string> ready_senders;
    script in(data, size);
    for (int step = 0; step < 256 && !in.done(); ++step) {
        const std::size_t before = sent.size();
        const std::uint8_t op = in.next();
        message msg{peer(in.next()), ""};
        switch (op % 8) {
            case 0:  // a client request (or an MMI query)
                msg.push_back(mdp::client_header);
                msg.push_back(service_name(in));
                for (std::uint8_t n = in.next() % 4; n > 0; --n) {
                    msg.push_back(in.bytes(8));
                }
                break;
            case 1:
                msg.push_back(mdp::worker_header);
                msg.push_back(mdp::frame_of(mdp::command::ready));
                msg.push_back(service_name(in));
                break;
            case 2:
                msg.push_back(mdp::worker_header);
                msg.push_back(mdp::frame_of(mdp::command::reply));
                msg.push_back(peer(in.next()));
                msg.push_back("");
                msg.push_back(in.bytes(8));
                break;
            case 3:
                msg.push_back(mdp::worker_header);
                msg.push_back(mdp::frame_of(in.next() % 2 == 0 ? mdp::command::heartbeat
                                                               : mdp::command::disconnect));
                break;
            case 4:  // anything at all
                msg.clear();
                for (std::uint8_t n = in.next() % 8; n > 0; --n) {
                    msg.push_back(in.bytes(12));
                }
                if (msg.empty() || msg[0].empty()) {
                    continue;  // a ROUTER always delivers an identity
                }
                msg[0] = peer(static_cast<std::uint8_t>(msg[0][0]));
                break;
            case 5:
                broker.heartbeat(clock_type::now() + std::chrono::milliseconds{in.next() * 4});
                require(sent.size() - before <= peers);
                check_books(broker);
                continue;
            case 6:
                broker.expire_requests(clock_type::now() +
                                       std::chrono::milliseconds{in.next() * 4});
                require(sent.size() == before);
                check_books(broker);
                continue;
            default:  // a worker command byte of any value
                msg.push_back(mdp::worker_header);
                msg.push_back(std::string(1, static_cast<char>(in.next())));
                msg.push_back(service_name(in));
                break;
        }
        if (msg.size() >= 4 && msg[1].empty() && msg[2] == mdp::worker_header &&
            msg[3] == mdp::frame_of(mdp::command::ready)) {
            ready_senders.insert(msg[0]);
        }
        broker.on_message(msg);  // may take msg's frames
        require(sent.size() - before <= 2);
        for (std::size_t i = before; i < sent.size(); ++i) {
            const message& out = sent[i];
            if (out.size() >= 4 && out[2] == mdp::worker_header &&
                out[3] == mdp::frame_of(mdp::command::request)) {
                require(ready_senders.contains(out[0]));
            }
        }
        check_books(broker);
    }
    return 0;
}
