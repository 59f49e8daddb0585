// The tutorial's application client: one request, one reply, then it closes.
//
//   usage:    app_client <host> <port> <action> <value>     (app_client 127.0.0.1 65432 search
//   ring) role:     stream (zpat::stream connecting to raw+tcp://host:port)
//
// `search` goes as text/json {"action", "value"}; any other action goes as binary content, as
// the tutorial's client does. The reply is complete when its content-length bytes have come.

#include <iostream>
#include <string>

#include "app_protocol.hpp"
#include "zpat/zpat.hpp"

int exchange(const std::string& host, const std::string& port, const std::string& request);

int main(int argc, char** argv) {
    const std::string usage =
        "usage: app_client <host> <port> <action> <value>\n"
        "  sends one request (action 'search': JSON; others: binary) and "
        "prints the reply";
    if (argc == 2 && std::string_view(argv[1]) == "--help") {
        std::cout << usage << std::endl;
        return 0;
    }
    if (argc != 5) {
        std::cerr << usage << std::endl;
        return 2;
    }
    const std::string host = argv[1];
    const std::string port = argv[2];
    const std::string action = argv[3];
    const std::string value = argv[4];

    const std::string request =
        action == "search"
            ? app::encode("text/json", "utf-8",
                          nlohmann::json{{"action", action}, {"value", value}}.dump())
            : app::encode("binary/custom-client-binary-type", "binary", action + value);

    try {
        return exchange(host, port, request);
    } catch (const std::exception& e) {  // a bad endpoint, or a reply that is not the protocol
        std::cerr << "app_client: " << e.what() << std::endl;
        return 1;
    }
}

int exchange(const std::string& host, const std::string& port, const std::string& request) {
    using namespace std::chrono_literals;
    zpat::stream client(">raw+tcp://" + host + ":" + port);
    app::reader reader;
    for (;;) {
        auto event = client.receive(5s);
        if (!event) {
            std::cerr << "app_client: no reply from " << host << ":" << port
                      << " within 5 s (is app_server running there?)" << std::endl;
            return 1;
        }
        if (event->what == zpat::stream::event::type::opened) {
            std::cout << "app_client: connected, sending " << request.size() << " bytes"
                      << std::endl;
            client.send(event->connection, request);
        } else if (event->what == zpat::stream::event::type::closed) {
            std::cerr << "app_client: the server closed the connection without a reply"
                      << std::endl;
            return 1;
        } else {
            reader.feed(event->bytes);
            if (auto reply = reader.next()) {
                if (reply->header["content-type"] == "text/json") {
                    const auto content = nlohmann::json::parse(reply->content);
                    std::cout << "app_client: result: " << content.value("result", "") << std::endl;
                } else {
                    std::cout << "app_client: " << reply->header["content-type"].get<std::string>()
                              << " reply: " << reply->content << std::endl;
                }
                return 0;  // closing the stream closes the connection
            }
        }
    }
}
