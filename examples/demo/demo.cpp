// The zpat demo: the three messaging patterns end to end over loopback, in one process, each
// role on its own thread as it would be in its own program, and each pattern twice: on ZeroMQ
// (tcp://) and on zpat's raw TCP backend (raw+tcp://). Only the endpoint's scheme differs. Then
// the same roles through an embedded broker: a Majordomo service and a cross-backend forwarder.
// Every port is picked by the system. Exits 1 if anything did not happen as narrated.

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "common/args.hpp"
#include "zpat/broker/broker.hpp"
#include "zpat/zpat.hpp"

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using reading = std::map<std::string, int>;

bool all_good = true;
std::string backend_label;  // the backend the current lines are about

void say(const std::string& line) {
    std::printf("%s\n", line.c_str());
}
// A line about the current backend: "   [zeromq ] ..." or "   [raw tcp] ...".
void tell(const std::string& line) {
    std::printf("   [%s] %s\n", backend_label.c_str(), line.c_str());
}

void check(bool condition, const std::string& what) {
    if (!condition) {
        std::printf("   !! unexpected: %s\n", what.c_str());
        all_good = false;
    }
}

double ms_since(clock_type::time_point start) {
    return std::chrono::duration<double, std::milli>(clock_type::now() - start).count();
}

std::string fixed(double value, int decimals = 2) {
    char text[32];
    std::snprintf(text, sizeof text, "%.*f", decimals, value);
    return text;
}

// Where a role binds on `scheme`, on a port the system picks.
std::string any_port(const std::string& scheme) {
    return "@" + scheme + "://127.0.0.1:*";
}

void request_reply(const std::string& scheme) {
    zpat::replier server(any_port(scheme));
    tell("server listening on " + server.endpoints()[0]);

    // The server loses the very first request it gets, as if it crashed mid-way, to show the
    // client's recovery; after that it answers everything.
    int calls = 0;
    std::thread serving([&] {
        server.serve([&](zpat::message request) -> zpat::message {
            if (++calls == 1) {
                throw std::runtime_error("simulated crash");
            }
            return zpat::message{request.front() == "Hello" ? "World" : "?"};
        });
    });

    zpat::requester client(server.endpoints()[0], {.request_timeout = 300ms, .retries = 2});
    for (int n = 1; n <= 3; ++n) {
        const auto start = clock_type::now();
        auto reply = client.request(zpat::message{"Hello"});
        check(reply && reply->front() == "World", "a World reply");
        std::string line = "client sent \"Hello\", got \"" + (reply ? reply->front() : "nothing") +
                           "\" in " + fixed(ms_since(start)) + " ms";
        if (client.last_attempts() > 1) {
            line += " (first try lost: no reply in 300 ms, so it retried on a fresh connection)";
        }
        tell(line);
    }
    server.stop();
    serving.join();
}

void publish_subscribe(const std::string& scheme) {
    zpat::publisher station(any_port(scheme));
    zpat::subscriber new_york(station.endpoints()[0], {"10001"});
    zpat::subscriber san_francisco(station.endpoints()[0], {"941"});
    tell("station publishing on " + station.endpoints()[0] +
         "; listener A subscribes to \"10001\", B to \"941\" (every San Francisco zip)");

    // Publishing before a subscriber has joined loses those messages (the "slow joiner"): wait
    // until both subscriptions have reached the station.
    check(station.wait_for_subscriptions(2, 5s), "both subscriptions arrive");

    const std::vector<std::string> zips{"10001", "94105", "94110", "60601", "02108"};
    int published = 0;
    for (int round = 0; round < 20; ++round) {
        for (const auto& zip : zips) {
            station.send(zpat::message{zip, zpat::pack(reading{{"celsius", 10 + round % 7}})});
            ++published;
        }
    }
    station.publish("10001", zpat::pack(reading{{"celsius", -1}}));  // end markers
    station.publish("941", zpat::pack(reading{{"celsius", -1}}));

    std::string heard;
    for (const auto& [name, listener] :
         {std::pair{"A", &new_york}, std::pair{"B", &san_francisco}}) {
        std::set<std::string> zips_heard;
        int updates = 0;
        while (auto update = listener->receive(5s)) {
            if (zpat::unpack<reading>(update->at(1)).at("celsius") < 0) {
                break;
            }
            zips_heard.insert(update->front());
            ++updates;
        }
        std::string zip_list;
        for (const auto& zip : zips_heard) {
            zip_list += (zip_list.empty() ? "" : "+") + zip;
        }
        heard += std::string(heard.empty() ? "" : ", ") + name + " heard " +
                 std::to_string(updates) + " (" + zip_list + ")";
        check(updates == (std::string(name) == "A" ? 20 : 40),
              "every matching update arrives, and nothing else");
    }
    tell("station published " + std::to_string(published) + " updates for 5 zip codes; " + heard);
}

void pipeline(const std::string& scheme) {
    constexpr int worker_count = 3;
    constexpr int task_count = 30;
    zpat::puller sink(any_port(scheme));
    // Workers bind here so the ventilator, connecting to each, deals tasks in strict turn.
    std::vector<zpat::puller> inboxes;
    std::string ventilator_targets;
    for (int w = 0; w < worker_count; ++w) {
        inboxes.emplace_back(any_port(scheme));
        ventilator_targets += (w == 0 ? ">" : ",>") + inboxes.back().endpoints()[0];
    }
    zpat::pusher ventilator(ventilator_targets);

    const auto start = clock_type::now();
    std::vector<std::thread> workers;
    for (int w = 0; w < worker_count; ++w) {
        workers.emplace_back([&, w] {
            zpat::pusher results(sink.endpoints()[0]);
            while (auto task = inboxes[static_cast<std::size_t>(w)].receive(500ms)) {
                std::this_thread::sleep_for(std::chrono::milliseconds(std::stoi(task->front())));
                results.send(zpat::message{"worker " + std::to_string(w + 1)});
            }
        });
    }
    int total_work_ms = 0;
    for (int t = 0; t < task_count; ++t) {
        const int ms = 5 + t % 10;
        total_work_ms += ms;
        ventilator.send(zpat::message{std::to_string(ms)});
    }

    std::map<std::string, int> done_by;
    for (int t = 0; t < task_count; ++t) {
        auto result = sink.receive(5s);
        check(result.has_value(), "every result reaches the sink");
        if (!result) {
            break;
        }
        ++done_by[result->front()];
    }
    const double elapsed = ms_since(start);
    std::string shares;
    for (const auto& [worker, count] : done_by) {
        shares += (shares.empty() ? "" : ", ") + std::to_string(count);
    }
    tell(std::to_string(task_count) + " tasks (" + std::to_string(total_work_ms) +
         " ms of work) done by " + std::to_string(worker_count) + " workers (" + shares +
         " each) in " + fixed(elapsed, 0) + " ms: " + fixed(total_work_ms / elapsed, 1) +
         "x faster than one worker");
    for (auto& worker : workers) {
        worker.join();
    }
    check(done_by.size() == worker_count, "every worker gets a share");
}

// A broker in the middle: a Majordomo service with two workers, and a forwarder that carries what
// a raw+tcp publisher says to a ZeroMQ subscriber.
void through_a_broker() {
    backend_label = "broker ";
    zpat::broker::config cfg;
    cfg.service = zpat::broker::service_config{.endpoint = "tcp://127.0.0.1:*"};
    cfg.forwarder = zpat::broker::forwarder_config{.frontend = "raw+tcp://127.0.0.1:*",
                                                   .backend = "tcp://127.0.0.1:*"};
    zpat::broker::broker broker(cfg);
    broker.start();
    const std::string services = ">" + broker.service_endpoint()[0];
    tell("service broker on " + broker.service_endpoint()[0] + ", forwarder from " +
         broker.forwarder_frontend()[0] + " to " + broker.forwarder_backend()[0]);

    // Two workers serve "upper"; each request goes to the one idle longest.
    std::vector<std::unique_ptr<zpat::service_worker>> workers;
    std::vector<std::thread> threads;
    for (const char* name : {"ann", "bob"}) {
        workers.push_back(std::make_unique<zpat::service_worker>(services, "upper"));
        threads.emplace_back([w = workers.back().get(), name] {
            w->serve([name](zpat::message request) {
                std::string text = request.at(0);
                for (char& c : text) {
                    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
                }
                return zpat::message{text, name};
            });
        });
    }
    zpat::service_client client(services, {.request_timeout = 2s, .retries = 2});
    const auto status = [&](const std::string& name) {
        auto reply = client.request("mmi.service", {name});
        return reply ? reply->front() : std::string("(no answer)");
    };
    // Both workers must have registered before the calls, or one would take them all.
    const auto registered = [&] {
        const zpat::broker::stats now = broker.counters();  // a copy: it outlives the loop
        for (const auto& service : now.service->services) {
            if (service.name == "upper") {
                return service.workers;
            }
        }
        return std::uint64_t{0};
    };
    for (int i = 0; i < 250 && registered() < 2; ++i) {
        std::this_thread::sleep_for(20ms);
    }
    std::set<std::string> served_by;
    for (const char* word : {"alpha", "beta", "gamma", "delta"}) {
        auto reply = client.request("upper", {word});
        check(reply && reply->size() == 2, "the service answers");
        if (reply && reply->size() == 2) {
            tell("client called 'upper' with \"" + std::string(word) + "\": \"" + reply->at(0) +
                 "\" from worker " + reply->at(1));
            served_by.insert(reply->at(1));
        }
    }
    check(served_by.size() == 2, "both workers take turns");
    tell("mmi.service says 'upper' is " + status("upper") + ", 'nothing' is " + status("nothing"));
    for (auto& w : workers) {
        w->stop();
    }
    for (auto& t : threads) {
        t.join();
    }

    // A publisher on plain sockets, a subscriber on ZeroMQ: the broker bridges them.
    zpat::publisher raw_pub(">" + broker.forwarder_frontend()[0]);
    zpat::subscriber zmq_sub(broker.forwarder_backend()[0], {"alerts."});
    raw_pub.wait_for_subscriptions(1, 5s);
    std::optional<zpat::message> alert;
    for (int i = 0; i < 100 && !alert; ++i) {  // until the subscriber's connection is up
        raw_pub.publish("alerts.storm", "gale warning");
        alert = zmq_sub.receive(20ms);
    }
    check(alert.has_value(), "the subscriber hears the raw publisher");
    if (alert) {
        tell("raw+tcp publisher -> broker -> ZeroMQ subscriber: " + alert->at(0) + " \"" +
             alert->at(1) + "\"");
    }
    const auto stats = broker.counters();
    tell("broker counters: " + std::to_string(stats.service->counts.messages_in) +
         " messages into the service broker, " +
         std::to_string(stats.forwarder->counts.messages_out) + " out of the forwarder");
}

// Runs `pattern` on ZeroMQ, then on the raw TCP backend.
void on_both_backends(void (*pattern)(const std::string&)) {
    for (const auto& [scheme, label] :
         {std::pair{"tcp", "zeromq "}, std::pair{"raw+tcp", "raw tcp"}}) {
        backend_label = label;
        pattern(scheme);
    }
}

}  // namespace

int main(int argc, char** argv) {
    example::args args(argc, argv,
                       "zpat-demo: the three patterns and a broker, on ZeroMQ and on raw TCP");
    args.check();
    spdlog::set_level(spdlog::level::warn);  // the broker's own news would crowd the narration
    say("zpat demo: three messaging patterns over loopback, each on ZeroMQ (tcp://) and on");
    say("zpat's raw TCP backend (raw+tcp://). The code is the same; only the endpoint differs.");
    try {
        say("\n1. Request-reply: a client asks, a server answers.");
        on_both_backends(request_reply);
        say("\n2. Publish-subscribe: a weather station broadcasts; each listener hears its "
            "topics.");
        on_both_backends(publish_subscribe);
        say("\n3. Pipeline: a ventilator fans tasks out to workers; a sink collects the results.");
        on_both_backends(pipeline);
        say("\n4. A broker in the middle: services by name, and a bridge between the backends.");
        through_a_broker();
    } catch (const std::exception& e) {
        std::printf("demo failed: %s\n", e.what());
        return 1;
    }
    say(all_good ? "\nAll three patterns worked on both backends, and through the broker. Next: "
                   "zpat --help, and ./dev run (the tutorial track)."
                 : "\nSomething did not go as described above.");
    return all_good ? 0 : 1;
}
