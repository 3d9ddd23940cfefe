// raven-worker: the headless contributor for servers. It computes gradients for work units that a
// coordinator leases to it; the engine lives in core/worker (docs/worker.md).
//
//   raven-worker --coordinator wss://coord.example:7443 --token T --device vulkan --cache-dir /var/cache/raven
//   raven-worker --coordinator wss://coord.example:7443 --enroll --token-file ~/.config/raven/token
//
// One line per work unit on stdout, what happens to the session on stderr, a summary on exit.
// SIGINT and SIGTERM stop it gracefully (units not started are handed back to the coordinator).
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QSocketNotifier>
#include <QStandardPaths>

#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstdio>

#include "AppInfo.h"
#include "base/ProcessMemory.h"
#include "base/Version.h"
#include "protocol/raven.pb.h"
#include "worker/Worker.h"

namespace {

int signalPipe[2] = {-1, -1};

void onSignal(int) {
    const char byte = 1;
    [[maybe_unused]] const auto written = ::write(signalPipe[0], &byte, 1);
}

const char* statusName(int status) {
    switch (status) {
        case raven::wire::RESULT_STATUS_ACCEPTED:
            return "accepted";
        case raven::wire::RESULT_STATUS_DUPLICATE:
            return "duplicate";
        case raven::wire::RESULT_STATUS_REJECTED:
            return "rejected";
        default:
            return "unanswered";
    }
}

int usageError(const QString& message) {
    std::fprintf(stderr, "raven-worker: %s\n", qPrintable(message));
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    raven::keepLargeBuffersInProcess();  // weights, shards and results of a megabyte each, every unit
    QCoreApplication app(argc, argv);
    raven::app::identify("raven-worker");

    QCommandLineParser parser;
    raven::app::addStandardOptions(
        parser,
        "Raven worker (headless): donates this machine's GPU (or CPU) to a Raven coordinator,\n"
        "computing gradients for the shards of data it is given. Stop it with Ctrl-C or SIGTERM:\n"
        "work not started is handed back.");
    parser.addOption({"coordinator", "The coordinator's URL.", "wss://host:port"});
    parser.addOption({"token", "Your contributor token (from the coordinator's operator).", "token"});
    parser.addOption({"enroll",
                      "Without a token: join a coordinator that has open enrollment, and keep the "
                      "token it gives in --token-file."});
    parser.addOption({"token-file", "Where the contributor token is kept (read when --token is not given).", "file"});
    parser.addOption(
        {"device", "Compute device: cpu, vulkan or vulkan:N (falls back to the CPU).", "device", "vulkan"});
    parser.addOption({"threads", "CPU threads to compute with (0: all).", "N", "0"});
    parser.addOption({"cache-dir", "Folder for cached shards and weights.", "dir"});
    parser.addOption({"cache-bytes", "Most bytes the cache may take on disk.", "N", QString::number(2LL << 30)});
    parser.addOption(
        {"max-leases", "Work units held at once (the next one downloads while one computes). Default 2.", "N", "2"});
    parser.addOption({"ask-below",
                      "Ask for more work when fewer than N units are waiting or computing, then enough to reach "
                      "--max-leases. Default 0: the same as --max-leases (kept topped up); lower batches the requests.",
                      "N", "0"});
    parser.addOption({"fetch-weights-separately",
                      "Fetch each model version's weights after the grant instead of asking for them with it "
                      "(costs a round trip per step; for coordinators that mishandle pushed weights). Default: "
                      "with the grant."});
    parser.addOption({"shard-memory-bytes",
                      "Most bytes of decoded training samples kept in memory (the rest are re-read from the "
                      "cache folder when needed). Default 536870912 (512 MiB).",
                      "N", QString::number(512LL << 20)});
    parser.addOption({"parallel-units",
                      "Work units computed side by side, each with its share of --threads (at most --max-leases). "
                      "Default 0: automatic, which is one at a time (measured: no gain on the CPU).",
                      "N", "0"});
    parser.addOption({"name", "The name the coordinator shows for this worker.", "name"});
    parser.addOption({"known-hosts", "The file of pinned coordinator certificates.", "file"});
    // Benchmark switches (core/worker/RecordedCompute.h): not for contributors.
    parser.addOption({"record",
                      "For benchmarks: also keep each computed unit's result and compute time in this folder, "
                      "for --replay.",
                      "dir"});
    parser.addOption({"replay",
                      "For benchmarks: do everything but the arithmetic (TLS, leases, fetching, verifying and "
                      "decoding the inputs, submitting): wait the recorded compute time and send the result "
                      "recorded in this folder by --record. Replays only the recorded job (same data, model, "
                      "seed, batch and job id); units without a recording are handed back.",
                      "dir"});
#ifdef RAVEN_HOSTILE_WORKER
    // The verification test bed's hostile worker (core/worker/HostileCompute.h): test builds only.
    parser.addOption({"cheat", "TEST BUILDS ONLY: cheat: random, scale, sign, zero, stale or copy.", "kind"});
    parser.addOption({"cheat-rate", "TEST BUILDS ONLY: share of the units cheated on.", "p", "1"});
    parser.addOption({"cheat-after", "TEST BUILDS ONLY: honest units first.", "n", "0"});
    parser.addOption({"cheat-share", "TEST BUILDS ONLY: where hostile workers drop and copy results.", "dir"});
    parser.addOption(
        {"cheat-factor", "TEST BUILDS ONLY: scale by this (default 2); sign: negate and scale (1).", "f", "0"});
#endif
    parser.process(app);

    raven::worker::WorkerOptions options;
    if (!parser.isSet("coordinator"))
        return usageError("no coordinator: pass --coordinator wss://host:port (ask its operator for the address)");
    options.coordinator = QUrl(parser.value("coordinator"));
    if (options.coordinator.scheme() != "wss" || options.coordinator.host().isEmpty())
        return usageError(
            QString("'%1' is not a coordinator URL: use wss://host:port").arg(parser.value("coordinator")));
    options.token = parser.value("token");
    options.enroll = parser.isSet("enroll");
    // Under systemd (packaging/systemd/raven-worker.service) the home folder is out of reach: the
    // folders the unit grants, announced in the environment, are the defaults instead.
    const QString stateDir = qEnvironmentVariable("STATE_DIRECTORY").section(QLatin1Char(':'), 0, 0);
    const QString cacheDir = qEnvironmentVariable("CACHE_DIRECTORY").section(QLatin1Char(':'), 0, 0);
    const QString dataDir =
        stateDir.isEmpty() ? QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) : stateDir;
    options.tokenFile = parser.isSet("token-file") ? parser.value("token-file")
                        : options.enroll           ? dataDir + "/contributor-token"
                                                   : QString();
    if (options.token.isEmpty() && !options.enroll &&
        (options.tokenFile.isEmpty() || !QFile::exists(options.tokenFile)))
        return usageError(
            "no contributor token: pass --token T (from the coordinator's operator), --token-file F holding it, "
            "or --enroll to join a coordinator with open enrollment");
    options.device = parser.value("device");
    bool ok = true;
    options.threads = parser.value("threads").toInt(&ok);
    if (!ok || options.threads < 0) return usageError("--threads wants a number of threads, 0 for all");
    options.cacheDir = parser.isSet("cache-dir") ? parser.value("cache-dir")
                       : cacheDir.isEmpty()      ? QStandardPaths::writableLocation(QStandardPaths::CacheLocation)
                                                 : cacheDir;
    options.cacheBytes = parser.value("cache-bytes").toLongLong(&ok);
    if (!ok || options.cacheBytes <= 0) return usageError("--cache-bytes wants a positive number of bytes");
    options.maxConcurrentLeases = parser.value("max-leases").toInt(&ok);
    if (!ok || options.maxConcurrentLeases < 1) return usageError("--max-leases wants a number of units, at least 1");
    options.workBufferLow = parser.value("ask-below").toInt(&ok);
    if (!ok || options.workBufferLow < 0 || options.workBufferLow > options.maxConcurrentLeases)
        return usageError(QString("--ask-below wants a number of units from 0 to --max-leases (%1)")
                              .arg(options.maxConcurrentLeases));
    options.weightsWithGrant = !parser.isSet("fetch-weights-separately");
    options.computeLanes = parser.value("parallel-units").toInt(&ok);
    if (!ok || options.computeLanes < 0) return usageError("--parallel-units wants a number of units, 0 for automatic");
    options.shardMemoryBytes = parser.value("shard-memory-bytes").toLongLong(&ok);
    if (!ok || options.shardMemoryBytes <= 0)
        return usageError("--shard-memory-bytes wants a positive number of bytes (the default is 536870912, 512 MiB)");
    options.displayName = parser.value("name");
    if (parser.isSet("record") && parser.isSet("replay"))
        return usageError("--record and --replay exclude each other: record a run first, then replay it");
    options.recordDir = parser.value("record");
    options.replayDir = parser.value("replay");
    options.knownHostsPath = parser.isSet("known-hosts") ? parser.value("known-hosts")
                             : stateDir.isEmpty()        ? QString()
                                                         : stateDir + "/known_hosts";

#ifdef RAVEN_HOSTILE_WORKER
    options.hostile.kind = parser.value("cheat");
    options.hostile.rate = parser.value("cheat-rate").toDouble(&ok);
    if (!ok) return usageError("--cheat-rate wants a share in [0, 1]");
    options.hostile.after = parser.value("cheat-after").toInt(&ok);
    if (!ok || options.hostile.after < 0) return usageError("--cheat-after wants a number of units");
    options.hostile.shareDir = parser.value("cheat-share");
    options.hostile.factor = parser.value("cheat-factor").toDouble(&ok);
    if (!ok || !std::isfinite(options.hostile.factor)) return usageError("--cheat-factor wants a number, e.g. 10");
#endif
    raven::worker::Worker worker(options);
    int exitCode = 0;
    qint64 creditsBefore = 0;
    QObject::connect(&worker, &raven::worker::Worker::statusMessage,
                     [](const QString& text) { std::fprintf(stderr, "raven-worker: %s\n", qPrintable(text)); });
    QObject::connect(&worker, &raven::worker::Worker::refused, [&](const QString&) { exitCode = 1; });
    QObject::connect(&worker, &raven::worker::Worker::unitFinished,
                     [&](const QString& id, int status, qint64 samples, double seconds) {
                         const qint64 credits = worker.stats().microCredits - creditsBefore;
                         creditsBefore = worker.stats().microCredits;
                         std::printf("unit %s: %lld samples in %.2f s, %s, +%.6f credits\n", qPrintable(id),
                                     static_cast<long long>(samples), seconds, statusName(status), credits / 1e6);
                         std::fflush(stdout);
                     });
    QObject::connect(&worker, &raven::worker::Worker::stopped, &app, [&] {
        const auto& s = worker.stats();
        std::fprintf(stderr,
                     "raven-worker: summary: %lld units accepted, %lld duplicate, %lld rejected; %lld samples, "
                     "%.3f TFLOP; sent %.2f MB (%.0f bytes per sample), received %.2f MB; earned %.6f credits\n",
                     static_cast<long long>(s.unitsAccepted), static_cast<long long>(s.unitsDuplicate),
                     static_cast<long long>(s.unitsRejected), static_cast<long long>(s.samples), s.flops / 1e12,
                     s.bytesSent / 1e6, s.samples > 0 ? static_cast<double>(s.bytesSent) / s.samples : 0.0,
                     s.bytesReceived / 1e6, s.microCredits / 1e6);
        std::fprintf(stderr,
                     "raven-worker: shards of the units granted: %lld in memory at the grant, %lld fetched after it; "
                     "%lld prefetched on the coordinator's hints\n",
                     static_cast<long long>(s.shardsInMemoryAtGrant), static_cast<long long>(s.shardsAfterGrant),
                     static_cast<long long>(s.shardsPrefetched));
        std::fprintf(stderr,
                     "raven-worker: weights down: %.2f MB whole, %.2f MB as int8 deltas (%lld versions rebuilt, %lld "
                     "deltas refused)\n",
                     s.wholeWeightsBytes / 1e6, s.weightsDeltaBytes / 1e6, static_cast<long long>(s.weightsDeltas),
                     static_cast<long long>(s.weightsDeltasRefused));
        if (const std::string timeline = worker.timeline().summary(); !timeline.empty())
            std::fprintf(stderr, "raven-worker: timeline: %s\n", timeline.c_str());
        app.exit(exitCode);
    });

    // Signals reach the event loop through a socket pair: a handler may only write a byte.
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, signalPipe) == 0) {
        auto* notifier = new QSocketNotifier(signalPipe[1], QSocketNotifier::Read, &app);
        QObject::connect(notifier, &QSocketNotifier::activated, [&] {
            char byte = 0;
            [[maybe_unused]] const auto got = ::read(signalPipe[1], &byte, 1);
            std::fprintf(stderr, "raven-worker: stopping (signal received)\n");
            worker.stop();
        });
        struct sigaction action {};
        action.sa_handler = onSignal;
        sigemptyset(&action.sa_mask);
        action.sa_flags = SA_RESTART;
        sigaction(SIGINT, &action, nullptr);
        sigaction(SIGTERM, &action, nullptr);
    }

    std::fprintf(stderr, "raven-worker %s: contributing to %s\n", raven::kVersion,
                 qPrintable(options.coordinator.toString()));
    worker.start();
    return app.exec();
}
