// raven-coordinator: the headless server that keeps each job's model, leases work units over the
// dataset's shards to contributors' workers, aggregates their gradients and keeps the credits
// ledger. The engine lives in core/coordinator; this is its command line.
//
//   raven-coordinator serve --data-dir D [--listen host:port] [--open-enrollment]
//   raven-coordinator add-contributor NAME --data-dir D            prints the worker's token
//   raven-coordinator invite NAME --host H:P --data-dir D           prints a raven:// invite for the tray app
//   raven-coordinator add-requester NAME --deposit CREDITS --data-dir D   prints the API key
//   raven-coordinator status --data-dir D                          jobs, steps, budgets
//   raven-coordinator audit --data-dir D                           ledger balanced, every sample counted once
// Without a command it serves (what the systemd unit runs).
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>

#include <cmath>
#include <cstdio>
#include <optional>

#include "AppInfo.h"
#include "InviteCommand.h"
#include "ShutdownSignals.h"
#include "base/Error.h"
#include "base/ProcessMemory.h"
#include "coordinator/Admin.h"
#include "coordinator/Coordinator.h"
#include "coordinator/CrashPoints.h"
#include "protocol/EventDispatcher.h"

namespace {

using raven::coordinator::CoordinatorOptions;

struct Listen {
    QHostAddress address;
    quint16 port = 0;
};

Listen parseListen(const QString& text) {
    const int colon = text.lastIndexOf(':');
    RAVEN_CHECK(colon > 0, "--listen " + text.toStdString() + " is not host:port", "e.g. --listen 0.0.0.0:7443");
    QString host = text.left(colon);
    if (host.startsWith('[') && host.endsWith(']')) host = host.mid(1, host.size() - 2);
    bool ok = false;
    const uint port = text.mid(colon + 1).toUInt(&ok);
    RAVEN_CHECK(ok && port <= 65535, "--listen " + text.toStdString() + ": bad port", "e.g. --listen 0.0.0.0:7443");
    QHostAddress address;
    if (host == QLatin1String("localhost"))
        address = QHostAddress::LocalHost;
    else
        RAVEN_CHECK(address.setAddress(host),
                    "--listen " + text.toStdString() + ": \"" + host.toStdString() + "\" is not an IP address",
                    "use 0.0.0.0 for every interface or 127.0.0.1 for this machine only");
    return {address, static_cast<quint16>(port)};
}

int positiveInt(const QCommandLineParser& parser, const QString& option, int fallback) {
    if (!parser.isSet(option)) return fallback;
    bool ok = false;
    const int value = parser.value(option).toInt(&ok);
    RAVEN_CHECK(ok && value > 0, "--" + option.toStdString() + " must be a positive integer", "");
    return value;
}

double positiveNumber(const QCommandLineParser& parser, const QString& option, double fallback) {
    if (!parser.isSet(option)) return fallback;
    bool ok = false;
    const double value = parser.value(option).toDouble(&ok);
    RAVEN_CHECK(ok && std::isfinite(value) && value > 0, "--" + option.toStdString() + " must be a positive number",
                "e.g. --" + option.toStdString() + " 50");
    return value;
}

qint64 nonNegative(const QCommandLineParser& parser, const QString& option, qint64 fallback) {
    if (!parser.isSet(option)) return fallback;
    bool ok = false;
    const qint64 value = parser.value(option).toLongLong(&ok);
    RAVEN_CHECK(ok && value >= 0, "--" + option.toStdString() + " must be a whole number, 0 or more", "");
    return value;
}

int serve(const QCommandLineParser& parser, const QString& dataDir) {
    raven::keepLargeBuffersInProcess();
    raven::coordinator::armCrashPoints();  // a test facility; unset it costs one branch per point
    CoordinatorOptions options;
    options.dataDir = dataDir;
    const Listen listen = parseListen(parser.value("listen"));
    options.address = listen.address;
    options.port = listen.port;
    options.openEnrollment = parser.isSet("open-enrollment");
    options.heartbeatIntervalMs = positiveInt(parser, "heartbeat-ms", options.heartbeatIntervalMs);
    options.leaseTimeoutMs = positiveInt(parser, "lease-timeout-ms", options.leaseTimeoutMs);
    options.unitDeadlineMs = positiveInt(parser, "unit-deadline-ms", options.unitDeadlineMs);
    options.shardsPerUnit = positiveInt(parser, "shards-per-unit", 0);
    options.unitSizing.roundTripMs = positiveNumber(parser, "unit-round-trip-ms", options.unitSizing.roundTripMs);
    options.unitSizing.linkMbitPerS = positiveNumber(parser, "unit-link-mbit", options.unitSizing.linkMbitPerS);
    options.unitSizing.workerGflops = positiveNumber(parser, "unit-worker-gflops", options.unitSizing.workerGflops);
    options.unitSizing.fromFleet = !parser.isSet("unit-nominal-only");
    options.creditWindow.seconds = nonNegative(parser, "credit-window-s", options.creditWindow.seconds);
    options.creditWindow.steps = nonNegative(parser, "credit-window-steps", options.creditWindow.steps);
    auto& peers = options.peers;
    peers.maxConnections = positiveInt(parser, "max-connections", peers.maxConnections);
    peers.maxConnectionsPerAddress = positiveInt(parser, "max-connections-per-address", peers.maxConnectionsPerAddress);
    peers.handshakeTimeoutMs = positiveInt(parser, "handshake-timeout-ms", peers.handshakeTimeoutMs);
    peers.loginTimeoutMs = positiveInt(parser, "login-timeout-ms", peers.loginTimeoutMs);
    peers.maxQueuedBytes = qint64(positiveInt(parser, "max-queued-mib", int(peers.maxQueuedBytes >> 20))) << 20;
    peers.enrollmentsPerAddressPerHour =
        positiveInt(parser, "enrollments-per-hour", peers.enrollmentsPerAddressPerHour);
    auto& jobs = options.jobs;
    jobs.maxParameters =
        qint64(positiveInt(parser, "max-parameters-m", int(jobs.maxParameters / 1'000'000))) * 1'000'000;
    jobs.maxActivationBytesPerSample =
        qint64(positiveInt(parser, "max-sample-activations-mib", int(jobs.maxActivationBytesPerSample >> 20))) << 20;
    jobs.maxUnitFlops = positiveInt(parser, "max-unit-gflop", int(jobs.maxUnitFlops / 1e9)) * 1e9;
    jobs.maxUnitActivationBytes =
        qint64(positiveInt(parser, "max-unit-activations-mib", int(jobs.maxUnitActivationBytes >> 20))) << 20;
    raven::coordinator::Coordinator coordinator(options);
    coordinator.start();
    std::printf("raven-coordinator serving %s\nfingerprint %s\ndata %s\n", qPrintable(coordinator.url().toString()),
                qPrintable(coordinator.fingerprint()), qPrintable(QDir(dataDir).absolutePath()));
    std::fflush(stdout);
    raven::app::quitOnTerminationSignals();
    const int code = QCoreApplication::exec();
    std::fprintf(stderr, "raven-coordinator: stopped\n");
    return code;
}

int run(QCoreApplication& app) {
    QCommandLineParser parser;
    raven::app::addStandardOptions(
        parser,
        "Raven coordinator: keeps the model of each training job, schedules shards of work to\n"
        "contributors' workers, aggregates their gradients and keeps the credits ledger.\n\n"
        "Commands:\n"
        "  serve                 serve jobs until SIGTERM/SIGINT (the default)\n"
        "  add-contributor NAME  register a contributor and print its worker's token\n"
        "  invite NAME           register a contributor and print an invite line for raven-contributor\n"
        "                        (--host: the address volunteers reach this coordinator at)\n"
        "  add-requester NAME    register a requester (--deposit CREDITS) and print its API key\n"
        "  status                list jobs with their step, state and budget\n"
        "  audit                 check the ledger, and that every step counted each sample exactly once");
    parser.addPositionalArgument("command", "serve, add-contributor, invite, add-requester, status or audit.",
                                 "[command]");
    parser.addPositionalArgument("name", "The contributor's or requester's name.", "[name]");
    parser.addOption({"data-dir", "Where jobs, shards and the ledger are stored.", "dir"});
    parser.addOption({"listen", "Address and port to serve on.", "host:port", "0.0.0.0:7443"});
    parser.addOption({"open-enrollment", "Admit workers without a token: each gets one on first contact."});
    parser.addOption({"host", "For invite: the host:port volunteers connect to.", "host:port"});
    parser.addOption({"deposit", "Credits to deposit for a new requester.", "credits", "0"});
    parser.addOption({"heartbeat-ms", "How often workers must send a heartbeat.", "ms"});
    parser.addOption({"lease-timeout-ms", "A worker silent this long loses its leases.", "ms"});
    parser.addOption({"unit-deadline-ms", "A leased work unit is re-issued after this.", "ms"});
    parser.addOption({"shards-per-unit",
                      "Shards per work unit of new jobs, kept with each job (default: sized from the job's model).",
                      "n"});
    // Limits on what strangers may cost (docs/security.md has each with its reason).
    const raven::coordinator::CoordinatorOptions defaults;
    // What new jobs' units are sized for (UnitSizing.h); the round trip and the upload rate are measured
    // where contributors are connected, and count where slower than these.
    const auto& sizing = defaults.unitSizing;
    parser.addOption({"unit-round-trip-ms",
                      QStringLiteral("Sizing new jobs' units: the least round trip to assume; the contributors' "
                                     "measured one counts where larger (default %1).")
                          .arg(sizing.roundTripMs),
                      "ms"});
    parser.addOption({"unit-link-mbit",
                      QStringLiteral("Sizing new jobs' units: the fastest link to assume, each way; the contributors' "
                                     "measured upload rate counts where slower (default %1).")
                          .arg(sizing.linkMbitPerS),
                      "Mbit/s"});
    parser.addOption({"unit-nominal-only",
                      "Sizing new jobs' units: the figures given alone, not the measured round trip and "
                      "upload rate (a job is then cut the same way whoever is connected)."});
    parser.addOption({"unit-worker-gflops",
                      QStringLiteral("Sizing new jobs' units: a typical contributor's training speed (default %1).")
                          .arg(sizing.workerGflops),
                      "GFLOP/s"});
    parser.addOption({"credit-window-s",
                      QStringLiteral("A credit stays pending this long after its result is accepted unless a replay "
                                     "checks it sooner (default %1; docs/ledger.md).")
                          .arg(defaults.creditWindow.seconds),
                      "s"});
    parser.addOption({"credit-window-steps",
                      QStringLiteral("...and until the job's model moved this many steps past the unit (default %1; "
                                     "0 and 0: credits are paid at once).")
                          .arg(defaults.creditWindow.steps),
                      "steps"});
    const auto limit = [&](const char* name, const QString& what, qint64 value, const char* unit) {
        parser.addOption({name, QStringLiteral("%1 (default %2).").arg(what).arg(value), unit});
    };
    limit("max-connections", "Connections in all, held below the file-descriptor limit", defaults.peers.maxConnections,
          "n");
    limit("max-connections-per-address", "Connections from one IP address", defaults.peers.maxConnectionsPerAddress,
          "n");
    limit("handshake-timeout-ms", "Time to finish TLS and the WebSocket upgrade", defaults.peers.handshakeTimeoutMs,
          "ms");
    limit("login-timeout-ms", "Time from connecting to authenticating", defaults.peers.loginTimeoutMs, "ms");
    limit("max-queued-mib", "Answers waiting unread for one peer before it is closed",
          defaults.peers.maxQueuedBytes >> 20, "MiB");
    limit("enrollments-per-hour", "Open enrollments per IP address per hour",
          defaults.peers.enrollmentsPerAddressPerHour, "n");
    limit("max-parameters-m", "Millions of parameters a model may have", defaults.jobs.maxParameters / 1'000'000, "n");
    limit("max-sample-activations-mib", "Activation memory of one sample",
          defaults.jobs.maxActivationBytesPerSample >> 20, "MiB");
    limit("max-unit-gflop", "GFLOPs of one work unit", static_cast<qint64>(defaults.jobs.maxUnitFlops / 1e9), "n");
    limit("max-unit-activations-mib", "Activation memory of one work unit", defaults.jobs.maxUnitActivationBytes >> 20,
          "MiB");
    parser.process(app);

    const QStringList args = parser.positionalArguments();
    const QString command = args.value(0, QStringLiteral("serve"));
    const QString dataDir = parser.value("data-dir");
    RAVEN_CHECK(!dataDir.isEmpty(), "no --data-dir given", "e.g. --data-dir /var/lib/raven-coordinator");

    if (command == QLatin1String("serve")) return serve(parser, dataDir);

    RAVEN_CHECK(command == QLatin1String("add-contributor") || command == QLatin1String("invite") ||
                    command == QLatin1String("add-requester") || command == QLatin1String("status") ||
                    command == QLatin1String("audit"),
                "unknown command \"" + command.toStdString() + "\"", "see raven-coordinator --help");
    RAVEN_CHECK(QDir().mkpath(dataDir), "cannot create " + dataDir.toStdString(), "check the path");
    // The store alone (not a Coordinator): safe beside a running server on the same directory.
    raven::ledger::CoordinatorStore store(QDir(dataDir).filePath("coordinator.sqlite"));
    raven::ledger::Ledger ledger(store);
    if (command == QLatin1String("audit")) {
        const auto audit = raven::coordinator::admin::auditReport(dataDir, store, ledger);
        std::fputs(qPrintable(audit.report), stdout);
        return audit.ok ? 0 : 3;
    }
    if (command == QLatin1String("status")) {
        std::fputs(qPrintable(raven::coordinator::admin::statusReport(dataDir, store, ledger)), stdout);
        return 0;
    }
    RAVEN_CHECK(args.size() == 2, command.toStdString() + " needs exactly one NAME",
                "e.g. raven-coordinator " + command.toStdString() + " ana --data-dir D");
    if (command == QLatin1String("invite")) {
        RAVEN_CHECK(parser.isSet("host"), "invite needs --host HOST:PORT",
                    "the address volunteers reach this coordinator at, e.g. --host raven.example.org:7443");
        std::printf("%s\n", qPrintable(raven::coordinator::makeInvite(store, dataDir, args[1], parser.value("host"))));
        std::fprintf(stderr,
                     "contributor %s added; give this invite to them (it holds their token and is shown only once)\n",
                     qPrintable(args[1]));
        return 0;
    }
    if (command == QLatin1String("add-contributor")) {
        std::printf("%s\n", qPrintable(raven::coordinator::admin::addContributor(store, args[1])));
        std::fprintf(stderr, "contributor %s added; give this token to its worker (shown only once)\n",
                     qPrintable(args[1]));
        return 0;
    }
    bool ok = false;
    const double credits = parser.value("deposit").toDouble(&ok);
    RAVEN_CHECK(ok && credits >= 0 && credits < 9e12, "--deposit must be a number of credits >= 0",
                "e.g. --deposit 100");
    const auto micro = static_cast<raven::ledger::MicroCredits>(
        std::llround(credits * static_cast<double>(raven::ledger::kMicroCreditsPerCredit)));
    std::printf("%s\n", qPrintable(raven::coordinator::admin::addRequester(store, ledger, args[1], micro)));
    std::fprintf(stderr, "requester %s added with %s credits; give this API key to them (shown only once)\n",
                 qPrintable(args[1]), qPrintable(parser.value("deposit")));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    raven::protocol::preferScalableEventDispatcher();  // thousands of workers' sockets
    QCoreApplication app(argc, argv);
    raven::app::identify("raven-coordinator");
    try {
        return run(app);
    } catch (const raven::Error& e) {
        std::fprintf(stderr, "raven-coordinator: %s\n", e.what());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "raven-coordinator: internal error: %s\n", e.what());
        return 1;
    }
}
