// raven-bench-coordinator-load: many simulated workers against one running raven-coordinator, over
// the real protocol (TLS WebSockets, open enrollment, heartbeats, leases, results); run.sh starts the
// coordinator and its job and calls this once per fleet size (docs/benchmarks.md, "Coordinator
// capacity").
//
//   raven-bench-coordinator-load --coordinator wss://127.0.0.1:PORT --coordinator-pid PID
//       --workers 10000 [--active 100] [--duration 20] [--warmup 3] [--hold 5] [--header]
//
// Phases, each measured on the coordinator's process (/proc/PID) and printed as one table row:
//  1. connect: every worker connects and enrolls, --connect-concurrency at a time;
//  2. hold: all sessions idle but for their heartbeats, --hold seconds: the coordinator's memory per
//     connected worker (resident memory after minus before, divided by the workers) and its CPU;
//  3. work: --active workers lease and submit results (one real gradient of the job's model, computed
//     once, ResultTemplate.h) while the others keep heartbeating; after --warmup seconds, --duration
//     seconds are measured: units accepted per second, lease latency (request -> grant of units),
//     the coordinator's CPU per unit and per second, heartbeat round trips, and this process's CPU
//     (when it is near 100% of a core, the generator and not the coordinator was the limit).
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QTimer>

#include <algorithm>
#include <cstdio>

#include "LoadFleet.h"
#include "ProcessSample.h"
#include "base/Error.h"
#include "protocol/ConnectionLimits.h"
#include "protocol/EventDispatcher.h"

namespace {

using raven::bench::LoadFleet;
using raven::bench::ProcessSample;

double percentile(std::vector<double> values, double p) {
    if (values.empty()) return 0.0;
    std::sort(values.begin(), values.end());
    const auto rank = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
    return values[std::min(rank, values.size() - 1)];
}

int positive(const QCommandLineParser& parser, const char* name) {
    bool ok = false;
    const int value = parser.value(name).toInt(&ok);
    RAVEN_CHECK(ok && value >= 0, std::string("--") + name + " must be a whole number", "");
    return value;
}

struct Run {
    LoadFleet* fleet = nullptr;
    pid_t coordinator = 0;
    int holdS = 5, warmupS = 3, durationS = 20;
    ProcessSample before;  // coordinator, before any worker connected
    ProcessSample held;    // after all connected and settled
    double holdCpuPercent = 0.0;
    double holdHeartbeatP99 = 0.0;
    ProcessSample self0, work0;  // at the start of the measured window
    QString label;
    int workers = 0;
};

void printHeader() {
    std::printf(
        "| workers | active | held | connect s | coord RSS MiB | KiB / worker | hold CPU %% | hold heartbeat p99 ms "
        "| units/s | lease p50 ms | lease p99 ms | coord CPU %% | coord CPU ms / unit | heartbeat p99 ms | "
        "generator CPU %% | lost |\n");
    std::printf("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
    std::fflush(stdout);
}

void finish(Run& run, int code) {
    LoadFleet& fleet = *run.fleet;
    const ProcessSample work1 = ProcessSample::of(run.coordinator);
    const ProcessSample self1 = ProcessSample::of(getpid());
    const double seconds = static_cast<double>(fleet.window().since.elapsed()) / 1000.0;
    const LoadFleet::Window& w = fleet.window();
    const double cpu = work1.cpuSeconds - run.work0.cpuSeconds;
    const double unitsPerS = seconds > 0 ? static_cast<double>(w.accepted) / seconds : 0.0;
    const double rssDelta = static_cast<double>(run.held.rssBytes - run.before.rssBytes);
    std::printf(
        "| %d | %d | %d | %.1f | %.0f | %.1f | %.1f | %.1f | %.0f | %.1f | %.1f | %.0f | %.2f | %.1f | %.0f | %d |\n",
        run.workers, fleet.working(), fleet.registered(), fleet.connectSeconds(),
        static_cast<double>(run.held.rssBytes) / (1 << 20),
        fleet.registered() > 0 ? rssDelta / 1024.0 / fleet.registered() : 0.0, run.holdCpuPercent, run.holdHeartbeatP99,
        unitsPerS, percentile(w.leaseMs, 0.5), percentile(w.leaseMs, 0.99), seconds > 0 ? 100.0 * cpu / seconds : 0.0,
        w.accepted > 0 ? 1000.0 * cpu / static_cast<double>(w.accepted) : 0.0, percentile(w.heartbeatMs, 0.99),
        seconds > 0 ? 100.0 * (self1.cpuSeconds - run.self0.cpuSeconds) / seconds : 0.0, fleet.lost());
    std::fprintf(stderr,
                 "%s: window %.1f s: %lld accepted, %lld duplicate, %lld rejected, %lld empty grants, %lld errors; "
                 "coordinator %d threads, %d descriptors, RSS %.0f MiB at the end\n",
                 qPrintable(run.label), seconds, static_cast<long long>(w.accepted),
                 static_cast<long long>(w.duplicate), static_cast<long long>(w.rejected),
                 static_cast<long long>(w.emptyGrants), static_cast<long long>(w.errors), work1.threads,
                 work1.openDescriptors, static_cast<double>(work1.rssBytes) / (1 << 20));
    if (fleet.resultTemplate().ready())
        std::fprintf(stderr, "%s: result: %s\n", qPrintable(run.label), qPrintable(fleet.resultTemplate().summary()));
    for (const QString& reason : fleet.lostReasons())
        std::fprintf(stderr, "%s: lost: %s\n", qPrintable(run.label), qPrintable(reason));
    if (!fleet.firstError().isEmpty())
        std::fprintf(stderr, "%s: first error: %s\n", qPrintable(run.label), qPrintable(fleet.firstError()));
    std::fflush(stdout);
    QCoreApplication::exit(code);
}

void measureWork(Run& run) {
    run.fleet->resetWindow();
    run.work0 = ProcessSample::of(run.coordinator);
    run.self0 = ProcessSample::of(getpid());
    QTimer::singleShot(run.durationS * 1000, [&run] { finish(run, 0); });
}

void work(Run& run) {
    LoadFleet& fleet = *run.fleet;
    fleet.startWork();
    // The warm-up starts once the shared result exists (the first unit is computed for real).
    auto* poll = new QTimer(QCoreApplication::instance());
    QElapsedTimer waited;
    waited.start();
    QObject::connect(poll, &QTimer::timeout, [&run, poll, waited] {
        LoadFleet& f = *run.fleet;
        if (!f.templateError().isEmpty()) {
            poll->stop();
            std::fprintf(stderr, "%s: the one real result could not be built: %s\n", qPrintable(run.label),
                         qPrintable(f.templateError()));
            finish(run, 1);
        } else if (f.resultTemplate().ready()) {
            poll->stop();
            std::fprintf(stderr, "%s: result template ready after %.1f s; warming up %d s\n", qPrintable(run.label),
                         static_cast<double>(waited.elapsed()) / 1000.0, run.warmupS);
            QTimer::singleShot(run.warmupS * 1000, [&run] { measureWork(run); });
        } else if (waited.elapsed() > 120000) {
            poll->stop();
            std::fprintf(stderr, "%s: no unit was granted within 120 s (is the job running? is its budget spent?)\n",
                         qPrintable(run.label));
            finish(run, 1);
        }
    });
    poll->start(100);
}

void hold(Run& run) {
    const ProcessSample h0 = ProcessSample::of(run.coordinator);
    run.fleet->resetWindow();
    QTimer::singleShot(run.holdS * 1000, [&run, h0] {
        run.held = ProcessSample::of(run.coordinator);
        const double seconds = static_cast<double>(run.fleet->window().since.elapsed()) / 1000.0;
        run.holdCpuPercent = seconds > 0 ? 100.0 * (run.held.cpuSeconds - h0.cpuSeconds) / seconds : 0.0;
        run.holdHeartbeatP99 = percentile(run.fleet->window().heartbeatMs, 0.99);
        std::fprintf(
            stderr, "%s: holding %d sessions: coordinator RSS %.0f MiB (%.0f before), %d descriptors, CPU %.1f%%\n",
            qPrintable(run.label), run.fleet->registered(), static_cast<double>(run.held.rssBytes) / (1 << 20),
            static_cast<double>(run.before.rssBytes) / (1 << 20), run.held.openDescriptors, run.holdCpuPercent);
        work(run);
    });
}

int main2(QCoreApplication& app) {
    QCommandLineParser parser;
    parser.setApplicationDescription(
        "Simulated workers against a running raven-coordinator over the real protocol; prints one table row "
        "(bench/coordinator_load/run.sh starts the coordinator and its job).");
    parser.addHelpOption();
    parser.addOptions({
        {"coordinator", "The coordinator's URL.", "wss://host:port"},
        {"coordinator-pid", "The coordinator's process id, for its CPU and memory (/proc).", "pid"},
        {"workers", "Simulated workers (connections).", "n", "100"},
        {"active", "Of them, workers that lease and submit; the rest only hold their session.", "n", "50"},
        {"units-per-worker", "Units an active worker asks for and holds at once.", "n", "1"},
        {"duration", "Seconds of measured work.", "s", "20"},
        {"warmup", "Seconds of work before the measurement.", "s", "3"},
        {"hold", "Seconds of idle holding measured after all connected.", "s", "5"},
        {"connect-concurrency", "Connections opened at once.", "n", "128"},
        {"known-hosts", "Where the coordinator's certificate is pinned.", "file"},
        {"label", "Names this run in the notes on standard error.", "text", "load"},
        {"header", "Print the table's header first."},
    });
    parser.process(app);
    RAVEN_CHECK(parser.isSet("coordinator") && parser.isSet("coordinator-pid"),
                "--coordinator and --coordinator-pid are needed", "bench/coordinator_load/run.sh passes both");
    LoadFleet::Options options;
    options.url = QUrl(parser.value("coordinator"));
    options.workers = positive(parser, "workers");
    options.active = positive(parser, "active");
    options.unitsPerWorker = std::max(1, positive(parser, "units-per-worker"));
    options.connectConcurrency = std::max(1, positive(parser, "connect-concurrency"));
    options.knownHostsPath = parser.isSet("known-hosts")
                                 ? parser.value("known-hosts")
                                 : QDir::temp().filePath(QStringLiteral("raven-load-known-hosts"));
    // Every simulated worker holds one descriptor: raise the soft limit to the hard one, and say so
    // plainly when even that is too low.
    const long files = raven::protocol::ConnectionLimits::raiseFileLimit();
    RAVEN_CHECK(files < 0 || options.workers + 64 <= files,
                "--workers " + std::to_string(options.workers) +
                    " needs more file descriptors than this process may open (" + std::to_string(files) + ")",
                "raise the hard limit (ulimit -Hn, LimitNOFILE= in systemd) or use fewer workers");

    Run run;
    run.coordinator = static_cast<pid_t>(parser.value("coordinator-pid").toLongLong());
    run.durationS = std::max(1, positive(parser, "duration"));
    run.warmupS = positive(parser, "warmup");
    run.holdS = std::max(1, positive(parser, "hold"));
    run.label = parser.value("label");
    run.workers = options.workers;
    run.before = ProcessSample::of(run.coordinator);
    RAVEN_CHECK(run.before.valid, "no process " + parser.value("coordinator-pid").toStdString() + " to measure",
                "pass the coordinator's pid with --coordinator-pid");
    if (parser.isSet("header")) printHeader();

    LoadFleet fleet(options);
    run.fleet = &fleet;
    // Progress while connecting (thousands of enrollments take minutes), and what failed so far.
    QTimer progress;
    QObject::connect(&progress, &QTimer::timeout, [&run, &progress] {
        const LoadFleet& f = *run.fleet;
        if (f.connectSeconds() > 0) return progress.stop();
        const ProcessSample c = ProcessSample::of(run.coordinator);
        std::fprintf(stderr, "%s: connecting: %d registered, %d lost%s; coordinator CPU %.1f s, %d descriptors\n",
                     qPrintable(run.label), f.registered(), f.lost(),
                     f.lostReasons().isEmpty() ? "" : qPrintable(QStringLiteral(" (%1)").arg(f.lostReasons().first())),
                     c.cpuSeconds, c.openDescriptors);
    });
    progress.start(10000);
    fleet.connectAll([&run] {
        std::fprintf(stderr, "%s: %d of %d workers registered in %.1f s\n", qPrintable(run.label),
                     run.fleet->registered(), run.fleet->registered() + run.fleet->lost(), run.fleet->connectSeconds());
        QTimer::singleShot(1000, [&run] { hold(run); });  // let the last registrations' writes settle
    });
    return QCoreApplication::exec();
}

}  // namespace

int main(int argc, char** argv) {
    raven::protocol::preferScalableEventDispatcher();  // thousands of sockets, as the coordinator
    QCoreApplication app(argc, argv);
    try {
        return main2(app);
    } catch (const raven::Error& e) {
        std::fprintf(stderr, "raven-bench-coordinator-load: %s\n", e.what());
        return 2;
    }
}
