// raven-worker: the headless contributor for servers. It computes gradients for work units that a
// coordinator leases to it; the engine lives in core/worker.
#include <QCommandLineParser>
#include <QCoreApplication>
#include <cstdio>

#include "AppInfo.h"
#include "base/Version.h"

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    raven::app::identify("raven-worker");

    QCommandLineParser parser;
    raven::app::addStandardOptions(
        parser,
        "Raven worker (headless): donates this machine's GPU (or CPU) to a Raven coordinator,\n"
        "computing gradients for the shards of data it is given.");
    parser.addOption({"coordinator", "The coordinator's URL.", "wss://host:port"});
    parser.addOption({"token", "Your contributor token.", "token"});
    parser.addOption({"device", "Compute device: cpu, vulkan or vulkan:N.", "device", "vulkan"});
    parser.process(app);

    std::fprintf(stderr,
                 "raven-worker %s: this build has no worker engine (core/worker) yet, so it cannot take\n"
                 "work from a coordinator. `raven devices` shows what this machine could donate.\n",
                 raven::kVersion);
    return 1;
}
