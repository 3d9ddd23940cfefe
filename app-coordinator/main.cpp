// raven-coordinator: the headless server that keeps each job's model, cuts datasets into shards,
// leases work units to workers and pays credits. The engine it runs lives in core/coordinator.
#include <QCommandLineParser>
#include <QCoreApplication>
#include <cstdio>

#include "AppInfo.h"
#include "base/Version.h"

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    raven::app::identify("raven-coordinator");

    QCommandLineParser parser;
    raven::app::addStandardOptions(
        parser,
        "Raven coordinator: keeps the model of each training job, schedules shards of work to\n"
        "contributors' workers, aggregates their gradients and keeps the credits ledger.");
    parser.addOption({"listen", "Address and port to serve on.", "host:port", "0.0.0.0:7443"});
    parser.addOption({"data-dir", "Where jobs, shards and the ledger are stored.", "dir"});
    parser.process(app);

    std::fprintf(stderr,
                 "raven-coordinator %s: this build has no distributed engine (core/coordinator) yet, so it\n"
                 "cannot serve jobs. Train on one machine with `raven train --local` meanwhile.\n",
                 raven::kVersion);
    return 1;
}
