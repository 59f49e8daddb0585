#include "zmq_curve.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "address_block.hpp"
#include "core/log_line.hpp"
#include "zmq_socket.hpp"
#include "zpat/core/error.hpp"

namespace zpat {

curve_keys make_curve_keys() {
    std::array<char, 41> public_key{};
    std::array<char, 41> secret_key{};
    if (zmq_curve_keypair(public_key.data(), secret_key.data()) != 0) {
        throw error(std::string("cannot make a CURVE key pair: ") + zmq_strerror(zmq_errno()));
    }
    return {.public_key = public_key.data(), .secret_key = secret_key.data()};
}

}  // namespace zpat

namespace zpat::detail {
namespace {

struct zap_policy {
    std::set<std::string, std::less<>> allowed;  // Z85 public keys
    std::vector<address_block> addresses;        // empty: any address
    bool allow_any = false;
    std::string name;  // the socket, for the log
};

// RFC 27's request: version, request id, domain, address, identity, mechanism, credentials.
constexpr std::size_t zap_request_frames = 7;
constexpr std::size_t curve_key_bytes = 32;

class zap_handler {
  public:
    static zap_handler& instance() {
        static zap_handler one(zmq_context());
        return one;
    }

    std::string add(std::shared_ptr<const zap_policy> policy) {
        const std::lock_guard lock(mutex_);
        std::string domain = "zpat-" + std::to_string(++made_);
        policies_.emplace(domain, std::move(policy));
        return domain;
    }

    void remove(const std::string& domain) {
        const std::lock_guard lock(mutex_);
        policies_.erase(domain);
    }

  private:
    explicit zap_handler(zmq::context_t& context) : socket_(context, zmq::socket_type::rep) {
        socket_.set(zmq::sockopt::linger, 0);
        socket_.bind("inproc://zeromq.zap.01");
        thread_ = std::thread([this] { run(); });
    }

    ~zap_handler() {
        stop_.request();
        thread_.join();
    }

    void run() {
        std::vector<zmq::message_t> request;
        while (!stop_.requested()) {
            std::array<zmq::pollitem_t, 2> items{
                {{socket_.handle(), 0, ZMQ_POLLIN, 0}, stop_.poll_item()}};
            if (zmq_poll(items.data(), items.size(), -1) < 0) {
                if (zmq_errno() == ETERM) {
                    return;
                }
                continue;  // EINTR
            }
            if ((items[0].revents & ZMQ_POLLIN) == 0) {
                continue;
            }
            request.clear();
            if (!receive(request)) {
                return;
            }
            answer(request);
        }
    }

    // The whole request, whatever its length; libzmq itself is the only sender.
    bool receive(std::vector<zmq::message_t>& request) {
        do {
            zmq::message_t frame;
            if (zmq_msg_recv(frame.handle(), socket_.handle(), 0) < 0) {
                return false;
            }
            request.push_back(std::move(frame));
        } while (request.back().more());
        return true;
    }

    void answer(const std::vector<zmq::message_t>& request) {
        const bool well_formed =
            request.size() == zap_request_frames && request[0].to_string_view() == "1.0" &&
            request[5].to_string_view() == "CURVE" && request[6].size() == curve_key_bytes;
        std::string user_id;
        const std::string_view status = well_formed ? decide(request, user_id) : "500";
        const std::array<std::string_view, 6> reply{
            "1.0",   well_formed || request.size() > 1 ? request[1].to_string_view() : "",
            status,  status == "200" ? "OK" : "refused",
            user_id, ""};
        for (std::size_t i = 0; i < reply.size(); ++i) {
            (void)zmq_send(socket_.handle(), reply[i].data(), reply[i].size(),
                           i + 1 < reply.size() ? ZMQ_SNDMORE : 0);
        }
    }

    // "200" with the client's key as its user id, or "400" with a logged reason.
    std::string_view decide(const std::vector<zmq::message_t>& request, std::string& user_id) {
        std::array<char, 41> key{};
        (void)zmq_z85_encode(key.data(), request[6].data<std::uint8_t>(), curve_key_bytes);
        std::shared_ptr<const zap_policy> policy;
        {
            const std::lock_guard lock(mutex_);
            const auto found = policies_.find(request[2].to_string_view());
            if (found != policies_.end()) {
                policy = found->second;
            }
        }
        const std::string address(request[3].to_string_view());
        if (policy == nullptr) {
            refusals_.say("zap", "refused a CURVE client from " + address +
                                     ": its server's ZAP domain is not zpat's");
            return "400";
        }
        if (!policy->addresses.empty() &&
            std::ranges::none_of(policy->addresses,
                                 [&](const address_block& b) { return b.contains(address); })) {
            refusals_.say(policy->name, "refused a CURVE client from " + address +
                                            ": its address is not on the allowed list");
            return "400";
        }
        if (!policy->allow_any && !policy->allowed.contains(std::string_view(key.data(), 40))) {
            refusals_.say(policy->name, "refused a CURVE client from " + address +
                                            ": its key is not on the allow-list");
            return "400";
        }
        user_id.assign(key.data(), 40);
        return "200";
    }

    zmq::socket_t socket_;
    zmq_stop_signal stop_;
    std::mutex mutex_;
    std::map<std::string, std::shared_ptr<const zap_policy>, std::less<>> policies_;
    std::uint64_t made_ = 0;
    throttled_log refusals_;  // the handler thread's
    std::thread thread_;
};

void check_key(std::string_view field, const std::string& key) {
    if (!is_curve_key(key)) {
        throw option_error("options::curve." + std::string(field) +
                           (key.empty() ? " is empty" : " is not a CURVE key") +
                           "; it must be 40 characters of Z85, as zpat keygen writes");
    }
}

}  // namespace

zap_registration::zap_registration(const curve_options& curve, std::string name) {
    auto policy = std::make_shared<zap_policy>();
    policy->allowed.insert(curve.allowed_clients.begin(), curve.allowed_clients.end());
    policy->allow_any = curve.allow_any_client;
    for (const std::string& block : curve.allowed_addresses) {
        policy->addresses.push_back(*address_block::parse(block));  // checked by check_curve
    }
    policy->name = std::move(name);
    domain_ = zap_handler::instance().add(std::move(policy));
}

zap_registration::~zap_registration() {
    zap_handler::instance().remove(domain_);
}

bool check_curve(const curve_options& curve) {
    check_key("keys.public_key", curve.keys.public_key);
    check_key("keys.secret_key", curve.keys.secret_key);
    std::array<char, 41> derived{};
    if (zmq_curve_public(derived.data(), curve.keys.secret_key.c_str()) != 0 ||
        curve.keys.public_key != derived.data()) {
        throw option_error(
            "options::curve.keys: the secret key is not the public key's pair; take both from "
            "one certificate");
    }
    const bool server = curve.server_key.empty();
    if (!server) {
        check_key("server_key", curve.server_key);
        if (!curve.allowed_clients.empty() || curve.allow_any_client ||
            !curve.allowed_addresses.empty()) {
            throw option_error(
                "options::curve: a client (server_key set) has no allow-list; "
                "allowed_clients, allow_any_client and allowed_addresses are a server's");
        }
        return false;
    }
    for (const std::string& key : curve.allowed_clients) {
        check_key("allowed_clients[]", key);
    }
    for (const std::string& block : curve.allowed_addresses) {
        if (!address_block::parse(block)) {
            throw option_error("options::curve.allowed_addresses has '" + block +
                               "', which is not an IPv4 or IPv6 address or ADDRESS/PREFIX "
                               "block (e.g. 10.0.0.0/8)");
        }
    }
    if (curve.allowed_clients.empty() && !curve.allow_any_client) {
        throw option_error(
            "options::curve: a CURVE server with no allowed_clients would let no client in; "
            "list the client keys, or set allow_any_client to encrypt without authenticating");
    }
    return true;
}

void apply_curve(zmq::socket_t& socket, const curve_options& curve,
                 const zap_registration* registration) {
    if (registration != nullptr) {
        socket.set(zmq::sockopt::curve_server, 1);
        socket.set(zmq::sockopt::curve_secretkey, curve.keys.secret_key);
        socket.set(zmq::sockopt::zap_domain, registration->domain());
        return;
    }
    socket.set(zmq::sockopt::curve_serverkey, curve.server_key);
    socket.set(zmq::sockopt::curve_publickey, curve.keys.public_key);
    socket.set(zmq::sockopt::curve_secretkey, curve.keys.secret_key);
}

}  // namespace zpat::detail
