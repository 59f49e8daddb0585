// The tutorial's application server on the raw backend: answers `search` requests from a small
// table, quotes binary requests back, and closes each connection after its reply.
//
//   usage:  app_server [<host> <port>]      (as the tutorial starts its server)
//           app_server --endpoint ENDPOINT  (tcp:// for ZeroMQ's ZMQ_STREAM)
//   role:   stream (zpat::stream on raw+tcp://: plain TCP, no framing of zpat's)
//   binds:  raw+tcp://127.0.0.1:65432 by default, the tutorial's port
//
// One thread serves every connection: each has its own reader, fed whatever bytes arrive,
// because a request may come in many pieces. A connection that breaks the protocol is told
// nothing and closed; the others carry on.

#include <iostream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "app_protocol.hpp"
#include "common/args.hpp"
#include "zpat/zpat.hpp"

namespace {

// The answer to one whole request, encoded.
std::string answer(const app::message& request) {
    if (request.header["content-type"] != "text/json") {
        const std::string quoted = "the first 10 bytes you sent: " + request.content.substr(0, 10);
        return app::encode("binary/custom-server-binary-type", "binary", quoted);
    }
    if (request.header["content-encoding"] != "utf-8") {
        throw app::protocol_error("text/json content must be utf-8");
    }
    const auto query = nlohmann::json::parse(request.content, nullptr, false);
    if (!query.is_object() || !query.value("action", nlohmann::json()).is_string() ||
        !query.value("value", nlohmann::json()).is_string()) {
        throw app::protocol_error("the content is not {\"action\": ..., \"value\": ...}");
    }
    static const std::map<std::string, std::string> known = {
        {"morpheus", "Take the red pill and see how deep the rabbit hole goes."},
        {"ring", "Lost in a cave under the mountains, for now. \U0001F48D"},
        {"\U0001F436", "\U0001F43E Fetching the ball!"},
    };
    const std::string action = query["action"];
    const std::string value = query["value"];
    std::string result;
    if (action != "search") {
        result = "Error: invalid action '" + action + "'.";
    } else if (auto found = known.find(value); found != known.end()) {
        result = found->second;
    } else {
        result = "No match for '" + value + "'.";
    }
    return app::encode("text/json", "utf-8", nlohmann::json{{"result", result}}.dump());
}

// A request as the log shows it: a query in full, binary content by its size only.
std::string describe(const app::message& request) {
    if (request.header["content-type"] == "text/json") {
        return request.content;
    }
    return std::to_string(request.content.size()) + " bytes of " +
           request.header["content-type"].get<std::string>();
}

// Where to bind, from `<host> <port>` or `--endpoint ENDPOINT`; empty after a usage mistake.
std::string endpoint_from(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty()) {
        return "@raw+tcp://127.0.0.1:65432";
    }
    if (args.size() == 2 && args[0] == "--endpoint") {
        return example::bind_to(args[1]);
    }
    const bool is_port = args.size() == 2 && !args[1].empty() && args[1].size() <= 5 &&
                         args[1].find_first_not_of("0123456789") == std::string::npos &&
                         std::stoul(args[1]) <= 65535;
    if (is_port && args[0].rfind('-', 0) != 0) {
        return "@raw+tcp://" + args[0] + ":" + args[1];
    }
    return {};
}

}  // namespace

int main(int argc, char** argv) {
    const std::string endpoint = endpoint_from(argc, argv);
    if (endpoint.empty()) {
        const bool asked = argc == 2 && (std::string_view(argv[1]) == "--help" ||
                                         std::string_view(argv[1]) == "-h");
        (asked ? std::cout : std::cerr)
            << "usage: app_server [<host> <port>]       bind raw+tcp://host:port (default "
               "127.0.0.1 65432)\n"
               "       app_server --endpoint ENDPOINT   e.g. tcp://127.0.0.1:65432 (ZeroMQ)\n";
        return asked ? 0 : 2;
    }

    zpat::stream server(example::bind_to(endpoint));
    std::cout << "app_server: listening on " << server.endpoints().front() << std::endl;
    std::map<zpat::stream::connection_id, app::reader> readers;
    while (auto event = server.receive()) {
        const auto id = event->connection;
        const std::string who = "connection " + std::to_string(id);
        switch (event->what) {
            case zpat::stream::event::type::opened:
                readers[id];
                std::cout << "app_server: " << who << " opened" << std::endl;
                break;
            case zpat::stream::event::type::closed:
                readers.erase(id);
                std::cout << "app_server: " << who << " closed by the client" << std::endl;
                break;
            case zpat::stream::event::type::data:
                try {
                    app::reader& reader = readers[id];
                    reader.feed(event->bytes);
                    if (auto request = reader.next()) {
                        std::cout << "app_server: " << who << " sent " << describe(*request)
                                  << std::endl;
                        server.send(id, answer(*request));
                        server.close(id);  // after the reply is written
                        readers.erase(id);
                    }
                } catch (const std::exception& e) {  // this connection's fault, not the server's
                    std::cout << "app_server: " << who << " dropped: " << e.what() << std::endl;
                    server.close(id);
                    readers.erase(id);
                }
                break;
        }
    }
}
