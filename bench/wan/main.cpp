// raven-wan-forwarder: the WAN bed's router (bench/wan/bed.sh starts it in the router namespace).
// Frames that arrive on any of the --port interfaces leave, through a learning switch (PortTable),
// by the port of their destination after a fixed one-way delay, with seeded random loss (DelayLine).
// Rates are tbf's, on the veths; this process only delays, drops and switches.
//
//   raven-wan-forwarder --port rw-c --port rw-w1 --port rw-w2 --delay-ms 25 [--loss 0.001] [--seed 1]
//
// Prints one "forwarding" line when ready and its counters when it gets SIGTERM or SIGINT.
#include <poll.h>
#include <signal.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "DelayLine.h"
#include "PacketPort.h"
#include "PortTable.h"

namespace {

using namespace raven::bench::wan;

volatile std::sig_atomic_t stopRequested = 0;
void requestStop(int) { stopRequested = 1; }

[[noreturn]] void usage(const std::string& problem) {
    std::fprintf(stderr,
                 "raven-wan-forwarder: %s\n"
                 "usage: raven-wan-forwarder --port IF --port IF [--port IF...] --delay-ms MS [--loss P] [--seed N]\n"
                 "       [--max-queue-mb MB]   (one-way delay per frame; loss in [0, 1))\n",
                 problem.c_str());
    std::exit(2);
}

double number(const char* text, const char* option) {
    char* end = nullptr;
    const double value = std::strtod(text, &end);
    if (end == text || *end != '\0') usage(std::string("not a number for ") + option + ": " + text);
    return value;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> interfaces;
    LinkModel model;
    for (int i = 1; i < argc; ++i) {
        const std::string option = argv[i];
        if (i + 1 >= argc) usage("missing value for " + option);
        const char* value = argv[++i];
        if (option == "--port") {
            interfaces.emplace_back(value);
        } else if (option == "--delay-ms") {
            const double ms = number(value, "--delay-ms");
            if (ms < 0) usage("--delay-ms must be >= 0");
            model.oneWayDelay = std::chrono::microseconds(static_cast<long long>(ms * 1000.0 + 0.5));
        } else if (option == "--loss") {
            model.lossProbability = number(value, "--loss");
        } else if (option == "--seed") {
            char* end = nullptr;
            model.seed = std::strtoull(value, &end, 10);
            if (end == value || *end != '\0') usage(std::string("--seed takes a whole number, got ") + value);
        } else if (option == "--max-queue-mb") {
            model.maxQueuedBytes = static_cast<std::size_t>(number(value, "--max-queue-mb") * (1 << 20));
        } else {
            usage("unknown option " + option);
        }
    }
    if (interfaces.size() < 2) usage("give at least two --port interfaces");

    std::vector<std::unique_ptr<PacketPort>> ports;
    std::unique_ptr<DelayLine> line;
    try {
        line = std::make_unique<DelayLine>(model);
        for (const auto& name : interfaces) ports.push_back(std::make_unique<PacketPort>(name));
    } catch (const std::exception& error) {
        std::fprintf(stderr, "raven-wan-forwarder: %s\n", error.what());
        return 1;
    }
    PortTable table(static_cast<int>(ports.size()));
    std::signal(SIGTERM, requestStop);
    std::signal(SIGINT, requestStop);

    std::vector<pollfd> watched;
    for (const auto& port : ports) watched.push_back(pollfd{port->fd(), POLLIN, 0});
    std::uint64_t tailDropped = 0, sendErrors = 0;
    std::printf("forwarding between %zu ports, %.3f ms one way, loss %.4f, seed %llu\n", ports.size(),
                static_cast<double>(model.oneWayDelay.count()) / 1000.0, model.lossProbability,
                static_cast<unsigned long long>(model.seed));
    std::fflush(stdout);

    try {
        while (!stopRequested) {
            const auto wait = line->untilNextDue(Clock::now());
            timespec timeout{wait.count() / 1000000, (wait.count() % 1000000) * 1000};
            const int ready = ppoll(watched.data(), watched.size(), wait.count() < 0 ? nullptr : &timeout, nullptr);
            if (ready < 0 && errno != EINTR) throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
            for (std::size_t p = 0; ready > 0 && p < watched.size(); ++p) {
                if (!(watched[p].revents & POLLIN)) continue;
                while (auto frame = ports[p]->receive()) {
                    const auto now = Clock::now();
                    const auto targets = table.route(*frame, static_cast<int>(p));
                    for (std::size_t t = 0; t < targets.size(); ++t)
                        line->admit(t + 1 == targets.size() ? std::move(*frame) : *frame, targets[t], now);
                }
            }
            for (auto& packet : line->takeDue(Clock::now())) {
                if (ports[static_cast<std::size_t>(packet.port)]->send(packet.bytes)) continue;
                // ENOBUFS: tbf's queue on that veth is full, the bottleneck's tail drop.
                if (errno == ENOBUFS || errno == EAGAIN)
                    ++tailDropped;
                else
                    ++sendErrors;
            }
        }
    } catch (const std::exception& error) {
        std::fprintf(stderr, "raven-wan-forwarder: %s\n", error.what());
        return 1;
    }
    const auto& c = line->counters();
    std::printf(
        "stopped: %llu frames delivered, %llu lost (loss model), %llu over the queue bound, "
        "%llu tail-dropped at tbf, %llu send errors\n",
        static_cast<unsigned long long>(c.delivered), static_cast<unsigned long long>(c.lost),
        static_cast<unsigned long long>(c.overflow), static_cast<unsigned long long>(tailDropped),
        static_cast<unsigned long long>(sendErrors));
    return 0;
}
