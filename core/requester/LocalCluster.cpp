#include "LocalCluster.h"

#include <QCoreApplication>
#include <QDir>
#include <QEventLoop>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>
#include <QStandardPaths>
#include <QTimer>
#include <algorithm>
#include <cstdio>

#if defined(Q_OS_LINUX)
#include <sys/prctl.h>
#include <unistd.h>

#include <csignal>
#endif

#include "base/Error.h"

namespace raven::requester {

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
    RAVEN_CHECK(options_.workers >= 0, "a local cluster cannot have a negative number of workers", "");
    RAVEN_CHECK(QDir().mkpath(options_.directory), "cannot create " + options_.directory.toStdString(),
                "choose a writable directory");
    if (options_.workers > 0) workerProgram();  // fail before the coordinator starts
    coordinator::CoordinatorOptions c;
    c.dataDir = QDir(options_.directory).filePath("coordinator");
    c.rate = options_.rate;
    coordinator_ = std::make_unique<coordinator::Coordinator>(c);
    coordinator_->start();
    apiKey_ = keptSecret("requester.key",
                         [this] { return coordinator_->addRequester(QStringLiteral("local"), kLocalDeposit); });
    setWorkerCount(options_.workers);
}

LocalCluster::~LocalCluster() {
    try {
        stop();
    } catch (...) {  // a destructor must not throw; stop() reports on stderr
    }
}

QString LocalCluster::knownHostsPath() const { return QDir(options_.directory).filePath("known_hosts"); }

QString LocalCluster::keptSecret(const QString& file, const std::function<QString()>& create) const {
    const QString path = QDir(options_.directory).filePath(file);
    if (options_.keepIdentity) {
        QFile kept(path);
        if (kept.open(QIODevice::ReadOnly)) {
            const QString secret = QString::fromUtf8(kept.readAll()).trimmed();
            if (!secret.isEmpty()) return secret;
        }
    }
    const QString secret = create();
    if (options_.keepIdentity) {
        QSaveFile out(path);
        // Owner-only before the secret is written: never readable by others, not even briefly.
        RAVEN_CHECK(out.open(QIODevice::WriteOnly) &&
                        out.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner) &&
                        out.write(secret.toUtf8()) >= 0 && out.commit(),
                    "cannot write " + path.toStdString(), "check that the directory is writable and not full");
    }
    return secret;
}

int LocalCluster::runningWorkers() const {
    return int(std::count_if(workers_.begin(), workers_.end(),
                             [](const auto& w) { return w->state() != QProcess::NotRunning; }));
}

void LocalCluster::setWorkerCount(int count) {
    RAVEN_CHECK(count >= 0, "a local cluster cannot have a negative number of workers", "");
    // Forget workers that have exited, so that indices (and names) are reused.
    while (!workers_.empty() && workers_.back()->state() == QProcess::NotRunning) workers_.pop_back();
    while (int(workers_.size()) < count) startWorker(int(workers_.size()));
    while (int(workers_.size()) > count) {
        QProcess* last = workers_.back().release();
        workers_.pop_back();
        // It hands back its leases and exits on SIGTERM; the process object goes when it has.
        QObject::connect(last, &QProcess::finished, last, &QObject::deleteLater);
        last->terminate();
    }
}

void LocalCluster::startWorker(int index) {
    const QString program = workerProgram();
    const QString name = QStringLiteral("local-worker-%1").arg(index + 1);
    const QString token = keptSecret(name + ".token", [&] { return coordinator_->addContributor(name); });
    // The worker reads its token from an owner-only file, never from the command line where `ps`
    // shows it to every user of the machine.
    const QString tokenFile = QDir(options_.directory).filePath(name + ".token");
    if (!options_.keepIdentity) {
        QSaveFile out(tokenFile);
        RAVEN_CHECK(out.open(QIODevice::WriteOnly) &&
                        out.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner) &&
                        out.write(token.toUtf8() + '\n') >= 0 && out.commit(),
                    "cannot write " + tokenFile.toStdString(), "check that the directory is writable and not full");
    }
    auto process = std::make_unique<QProcess>();
    process->setProgram(program);
    process->setArguments({"--coordinator", url().toString(), "--token-file", tokenFile, "--device", options_.device,
                           "--threads", QString::number(options_.threadsPerWorker), "--cache-dir",
                           QDir(options_.directory).filePath("cache-" + name), "--known-hosts", knownHostsPath(),
                           "--name", name});
    // The workers' unit lines would drown the progress bar; their messages are kept in a log.
    process->setStandardOutputFile(QDir(options_.directory).filePath(name + ".log"));
    process->setStandardErrorFile(QDir(options_.directory).filePath(name + ".log"), QIODevice::Append);
#if defined(Q_OS_LINUX)
    // The workers end with this process however it ends (killed, crashed): left running, they retried
    // a coordinator gone for good and kept their cache folders locked, so the console's next start
    // had no local workers. SIGTERM, as stop() sends: they hand back what they hold. The signal comes
    // when the forking thread ends, which is this program's main thread (the console's, raven train's).
    const pid_t parent = ::getpid();
    process->setChildProcessModifier([parent] {
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (::getppid() != parent) ::_exit(0);  // the parent died before the line above
    });
#endif
    process->start();
    RAVEN_CHECK(process->waitForStarted(10000),
                "cannot start " + program.toStdString() + ": " + process->errorString().toStdString(),
                "check that raven-worker runs: " + program.toStdString() + " --version");
    workers_.push_back(std::move(process));
}

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

}  // namespace raven::requester
