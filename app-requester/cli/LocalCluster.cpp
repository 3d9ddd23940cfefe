#include "LocalCluster.h"

#include <QCoreApplication>
#include <QDir>
#include <QEventLoop>
#include <QFile>
#include <QFileInfo>
#include <QStandardPaths>
#include <QTimer>
#include <algorithm>
#include <cstdio>

#include "base/Error.h"

namespace raven::cli {

namespace {
// Credits for the local requester: the job pays its local contributors, which costs nothing real,
// so the budget only has to be large enough never to stop a job.
constexpr ledger::MicroCredits kLocalDeposit = 1'000'000 * ledger::kMicroCreditsPerCredit;
// How long stop() lets the workers hand back their leases and exit.
constexpr int kStopWaitMs = 10000;
}  // namespace

QString LocalCluster::workerProgram() {
    const QString named = qEnvironmentVariable("RAVEN_WORKER");
    if (!named.isEmpty()) return named;
    const QDir here(QCoreApplication::applicationDirPath());
    for (const QString& candidate : {here.filePath("raven-worker"), here.filePath("../app-contributor/raven-worker")})
        if (QFileInfo(candidate).isExecutable()) return QFileInfo(candidate).canonicalFilePath();
    const QString onPath = QStandardPaths::findExecutable("raven-worker");
    RAVEN_CHECK(!onPath.isEmpty(), "cannot find raven-worker beside " + here.path().toStdString() + " or on PATH",
                "install the raven-contributor package, or set RAVEN_WORKER to the program");
    return onPath;
}

LocalCluster::LocalCluster(LocalClusterOptions options) : options_(std::move(options)) {
    RAVEN_CHECK(options_.workers >= 1, "a local cluster needs at least one worker", "");
    RAVEN_CHECK(QDir().mkpath(options_.directory), "cannot create " + options_.directory.toStdString(),
                "choose a writable directory");
    const QString program = workerProgram();
    coordinator::CoordinatorOptions c;
    c.dataDir = QDir(options_.directory).filePath("coordinator");
    coordinator_ = std::make_unique<coordinator::Coordinator>(c);
    coordinator_->start();
    apiKey_ = coordinator_->addRequester(QStringLiteral("local"), kLocalDeposit);
    for (int i = 0; i < options_.workers; ++i) {
        const QString name = QStringLiteral("local-worker-%1").arg(i + 1);
        // The token goes in an owner-only file, never on the command line where `ps` shows it.
        const QString tokenFile = QDir(options_.directory).filePath(name + ".token");
        {
            QFile file(tokenFile);
            file.remove();
            RAVEN_CHECK(file.open(QIODevice::WriteOnly, QFileDevice::ReadOwner | QFileDevice::WriteOwner) &&
                            file.write(coordinator_->addContributor(name).toUtf8() + '\n') > 0,
                        "cannot write " + tokenFile.toStdString() + ": " + file.errorString().toStdString(),
                        "check that the training directory is writable");
        }
        auto process = std::make_unique<QProcess>();
        process->setProgram(program);
        process->setArguments({"--coordinator", url().toString(), "--token-file", tokenFile, "--device",
                               options_.device, "--threads", QString::number(options_.threadsPerWorker), "--cache-dir",
                               QDir(options_.directory).filePath("cache-" + name), "--known-hosts", knownHostsPath(),
                               "--name", name});
        // The workers' unit lines would drown the progress bar; their messages are kept in a log.
        process->setStandardOutputFile(QDir(options_.directory).filePath(name + ".log"));
        process->setStandardErrorFile(QDir(options_.directory).filePath(name + ".log"), QIODevice::Append);
        process->start();
        RAVEN_CHECK(process->waitForStarted(10000),
                    "cannot start " + program.toStdString() + ": " + process->errorString().toStdString(),
                    "check that raven-worker runs: " + program.toStdString() + " --version");
        workers_.push_back(std::move(process));
    }
}

LocalCluster::~LocalCluster() {
    try {
        stop();
    } catch (...) {  // a destructor must not throw; stop() reports on stderr
    }
}

QString LocalCluster::knownHostsPath() const { return QDir(options_.directory).filePath("known_hosts"); }

void LocalCluster::stop() {
    for (auto& worker : workers_)
        if (worker->state() != QProcess::NotRunning) worker->terminate();
    // The coordinator runs on this thread's event loop and must keep answering while the workers
    // hand back their leases, so wait in an event loop rather than blocking.
    auto running = [this] {
        return std::any_of(workers_.begin(), workers_.end(),
                           [](const auto& w) { return w->state() != QProcess::NotRunning; });
    };
    if (running()) {
        QEventLoop loop;
        for (auto& worker : workers_)
            QObject::connect(worker.get(), &QProcess::finished, &loop, [&] {
                if (!running()) loop.quit();
            });
        QTimer::singleShot(kStopWaitMs, &loop, &QEventLoop::quit);
        loop.exec();
    }
    for (auto& worker : workers_) {
        if (worker->state() == QProcess::NotRunning) continue;
        std::fprintf(stderr, "raven: worker %lld did not stop in %d s; killing it\n",
                     static_cast<long long>(worker->processId()), kStopWaitMs / 1000);
        worker->kill();
        worker->waitForFinished(2000);
    }
    workers_.clear();
    coordinator_.reset();
}

}  // namespace raven::cli
