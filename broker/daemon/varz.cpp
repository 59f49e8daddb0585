#include "varz.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <toml++/toml.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "zpat/version.hpp"

namespace zpat::broker {

namespace {

using json = nlohmann::ordered_json;

// VmRSS and VmHWM of /proc/self/status, in bytes (0 where the kernel does not say).
json memory() {
    std::ifstream status("/proc/self/status");
    std::uint64_t rss = 0;
    std::uint64_t peak = 0;
    for (std::string line; std::getline(status, line);) {
        std::istringstream fields(line);
        std::string key;
        std::uint64_t kib = 0;
        fields >> key >> kib;
        if (key == "VmRSS:") {
            rss = kib * 1024;
        } else if (key == "VmHWM:") {
            peak = kib * 1024;
        }
    }
    return {{"rss_bytes", rss}, {"peak_rss_bytes", peak}};
}

json descriptors() {
    std::uint64_t open = 0;
    if (DIR* listing = ::opendir("/proc/self/fd")) {
        while (const dirent* entry = ::readdir(listing)) {
            open += entry->d_name[0] == '.' ? 0 : 1;
        }
        ::closedir(listing);
        open = open > 0 ? open - 1 : 0;  // the listing's own descriptor
    }
    rlimit limit{};
    ::getrlimit(RLIMIT_NOFILE, &limit);
    return {{"open", open}, {"limit", static_cast<std::uint64_t>(limit.rlim_cur)}};
}

std::uint64_t still_open(const connection_counts& c) {
    return c.opened >= c.closed ? c.opened - c.closed : 0;
}

json open_connections(const traffic& t) {
    return {{"frontend", still_open(t.frontend_connections)},
            {"backend", still_open(t.backend_connections)}};
}

// The TOML that --check-config prints, as JSON (toml++ writes it; nlohmann keeps its order).
json settings(const std::string& toml_text) {
    try {
        std::ostringstream out;
        out << toml::json_formatter{toml::parse(toml_text)};
        return json::parse(out.str());
    } catch (const std::exception& e) {
        return {{"unreadable", e.what()}};
    }
}

std::string rfc3339(std::chrono::system_clock::time_point t) {
    const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
    std::tm utc{};
    ::gmtime_r(&seconds, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}

json connection_json(const device_connection& d, std::chrono::system_clock::time_point now) {
    const connection_info& c = d.connection;
    json out = {{"device", d.device},
                {"side", d.side},
                {"peer", c.peer},
                {"endpoint", c.endpoint},
                {"peer_role", c.peer_role},
                {"since", rfc3339(c.since)},
                {"uptime_seconds",
                 std::chrono::duration_cast<std::chrono::seconds>(now - c.since).count()}};
    // null for what is not counted: messages on ZeroMQ, anything over ZeroMQ's ipc://.
    const auto count = [](const std::optional<std::uint64_t>& n) {
        return n ? json(*n) : json(nullptr);
    };
    const zpat::connection_traffic t = c.traffic.value_or(zpat::connection_traffic{});
    out["messages_in"] = count(t.messages_in);
    out["bytes_in"] = c.traffic ? json(t.bytes_in) : json(nullptr);
    out["messages_out"] = count(t.messages_out);
    out["bytes_out"] = c.traffic ? json(t.bytes_out) : json(nullptr);
    return out;
}

}  // namespace

std::string connz_json(const std::vector<device_connection>& all, std::size_t offset,
                       std::size_t limit) {
    const auto now = std::chrono::system_clock::now();
    json listed = json::array();
    for (std::size_t i = offset; i < all.size() && listed.size() < limit; ++i) {
        listed.push_back(connection_json(all[i], now));
    }
    const json out = {{"now", rfc3339(now)},
                      {"total", all.size()},
                      {"offset", offset},
                      {"limit", limit},
                      {"num_connections", listed.size()},
                      {"connections", listed}};
    return out.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string varz_json(const stats& s, const server_info& info, const http_counts& http) {
    const auto now = std::chrono::system_clock::now();
    json connections = json::object();
    if (s.forwarder) {
        connections["forwarder"] = open_connections(s.forwarder->counts);
    }
    if (s.streamer) {
        connections["streamer"] = open_connections(*s.streamer);
    }
    if (s.service) {
        connections["service"] = open_connections(s.service->counts);
    }
    if (s.queue) {
        connections["queue"] = open_connections(s.queue->counts);
    }
    if (s.pirate) {
        connections["pirate"] = open_connections(s.pirate->passed.counts);
    }
    json pair = nullptr;
    if (s.pair) {
        pair = {
            {"role", s.pair->role}, {"state", s.pair->state}, {"peer_state", s.pair->peer_state}};
    }
    const json out = {
        {"server", "zpat-broker"},
        {"version", std::string(zpat::version())},
        {"pid", static_cast<std::int64_t>(::getpid())},
        {"started", rfc3339(info.started)},
        {"uptime_seconds",
         std::chrono::duration_cast<std::chrono::seconds>(now - info.started).count()},
        {"memory", memory()},
        {"descriptors", descriptors()},
        {"connections", connections},
        {"pair", pair},
        {"http", {{"connections_cut", http.connections_cut}}},
        {"config", settings(info.config)}};
    return out.dump(2) + "\n";
}

std::string subsz_json(const stats& s) {
    if (!s.forwarder) {
        return {};
    }
    std::uint64_t total = 0;
    json topics = json::array();
    for (const topic_stats& t : s.forwarder->topics) {
        total += t.subscriptions;
        topics.push_back(
            {{"prefix", t.prefix}, {"subscriptions", t.subscriptions}, {"messages", t.messages}});
    }
    const json out = {{"subscriptions", total},
                      {"prefixes", s.forwarder->topics.size()},
                      {"cached_topics", s.forwarder->cached_topics},
                      {"cached_bytes", s.forwarder->cached_bytes},
                      {"topics", topics}};
    return out.dump(2, ' ', false, json::error_handler_t::replace) + "\n";  // topics are bytes
}

}  // namespace zpat::broker
