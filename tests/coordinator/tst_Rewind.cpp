// Rewinding a caught contributor out of a verifiable job (issue 18 item 4), over real sockets: a
// cheater passes probation honestly, then negates its gradient on exactly the units the coordinator
// will not replay (it reads the sampling decision: the strongest cheater there is), and is caught
// only when it sends a zero gradient (always replayed). Its wrong results were summed into steps
// unchecked; the coordinator replays them, recomputes the steps from the first wrong one, and the
// job's final weights equal those of the same job trained by honest workers alone, bit for bit. No
// credit is paid for a wrong result, and the ledger's audit passes. And the crashes a rewind must
// survive: one right after the quarantine is decided, and a real raven-coordinator process killed at
// its crash point between a rewind's state file and the move of its staged files.
#include <QtTest>

#include <QCryptographicHash>
#include <QProcess>
#include <QRegularExpression>

#include "CoordinatorTestKit.h"
#include "coordinator/Admin.h"
#include "coordinator/CrashPoints.h"
#include "coordinator/JobFiles.h"
#include "coordinator/ResultVerifier.h"
#include "coordinator/RewindArchive.h"
#include "ledger/TrustBook.h"

using namespace raven;
using namespace raven::test;

namespace {

wire::Hyperparameters rewindJob() {
    wire::Hyperparameters h = adamHyperparameters(6);
    h.set_global_batch(128);  // 4 units a step: ~18 steps of the synthetic dataset
    h.set_kernel_mode(wire::KERNEL_MODE_VERIFIABLE);
    return h;
}

// The same job with fast kernels, centred clipping and spot checks: its replays are compared within
// the fast kernels' tolerance, and its steps are combined robustly.
wire::Hyperparameters spotCheckedJob() {
    wire::Hyperparameters h = rewindJob();
    h.set_kernel_mode(wire::KERNEL_MODE_FAST);
    h.set_aggregation(wire::AGGREGATION_CENTRED_CLIP);
    h.set_spot_check(true);
    return h;
}

QByteArray weightsSha256(const std::map<std::string, std::vector<float>>& weights) {
    QCryptographicHash hash(QCryptographicHash::Sha256);
    for (const auto& [name, values] : weights) {
        hash.addData(QByteArray::fromStdString(name));
        hash.addData(QByteArrayView(reinterpret_cast<const char*>(values.data()),
                                    static_cast<qsizetype>(values.size() * sizeof(float))));
    }
    return hash.result().toHex();
}

struct Trained {
    std::map<std::string, std::vector<float>> weights;
    std::string job;
};

}  // namespace

class RewindTest : public QObject {
    Q_OBJECT

    Trained train(Deployment& d, const std::vector<TestWorker::Behaviour>& behaviours,
                  std::vector<std::unique_ptr<TestWorker>>& pool, const wire::Hyperparameters& h = rewindJob()) {
        d.options.verificationSeed = 42;
        d.start();
        auto requester = d.requester();
        QSignalSpy ended(d.coordinator.get(), &coordinator::Coordinator::jobEnded);
        Trained run;
        run.job = d.submitJob(*requester, h);
        for (std::size_t i = 0; i < behaviours.size(); ++i)
            pool.push_back(std::make_unique<TestWorker>(d.coordinator->url(),
                                                        d.coordinator->addContributor("w").toStdString(),
                                                        d.workerDir(QStringLiteral("worker%1").arg(i)), behaviours[i]));
        if (!QTest::qWaitFor([&] { return ended.size() == 1; }, 120000)) qFatal("the job did not end");
        if (ended[0][1].toString() != QStringLiteral("done"))
            qFatal("the job ended %s", qPrintable(ended[0][1].toString()));
        run.weights = checkpointWeights(d.downloadCheckpoint(*requester, run.job));
        for (auto& w : pool) w->stop();
        return run;
    }

    // The same job trained by three honest workers: what every rewound run must equal.
    const Trained& reference() {
        if (!reference_) {
            Deployment clean;
            std::vector<std::unique_ptr<TestWorker>> honestPool;
            reference_ = train(clean, {{1.0, 1, 0, {}}, {1.0, 1, 0, {}}, {1.0, 1, 0, {}}}, honestPool);
            if (!clean.coordinator->ledger().audit().ok()) qFatal("the clean run's audit failed");
        }
        return *reference_;
    }

    // Trusted after two units, credits pending for the whole job (every unchecked result can still be
    // taken back).
    static void configure(Deployment& d) {
        d.options.verification.probationUnits = 2;
        d.options.verification.halvingUnits = 1;
        d.options.creditWindow = ledger::CreditWindow{600, 1000};
    }

    // After its probation: a negated gradient on each unit the coordinator will not replay, three
    // times, then a zero gradient (ResultPlausibility doubts it, so it is replayed: caught).
    static std::function<void(protocol::WorkResult&, int)> cheater(Deployment& d,
                                                                   std::vector<std::unique_ptr<TestWorker>>& pool,
                                                                   int& wrongSent) {
        return [&d, &pool, &wrongSent](protocol::WorkResult& r, int n) {
            if (n < 3) return;
            if (wrongSent >= 3) {
                std::fill(r.gradient.begin(), r.gradient.end(), 0.0f);
                return;
            }
            const coordinator::VerificationPolicy& policy = d.coordinator->verifier().policy();
            if (policy.shouldVerify(pool[0]->contributorId, std::stoll(r.workUnitId))) return;
            for (float& g : r.gradient) g = -g;
            ++wrongSent;
        };
    }

    // After its probation: a negated gradient on up to three units the coordinator will not replay, then
    // honest again, so it is never caught while the coordinator runs.
    static std::function<void(protocol::WorkResult&, int)> unseenCheater(Deployment& d,
                                                                         std::vector<std::unique_ptr<TestWorker>>& pool,
                                                                         int& wrongSent) {
        return [&d, &pool, &wrongSent](protocol::WorkResult& r, int n) {
            if (n < 3 || wrongSent >= 3 || !d.coordinator) return;
            const coordinator::VerificationPolicy& policy = d.coordinator->verifier().policy();
            if (policy.shouldVerify(pool[0]->contributorId, std::stoll(r.workUnitId))) return;
            for (float& g : r.gradient) g = -g;
            ++wrongSent;
        };
    }

    // `raven-coordinator serve` on the deployment's data directory, on a free loopback port, with the
    // deployment's timings and credit window; returns its URL once it serves (empty when it died first).
    static QUrl serveAsProcess(QProcess& serve, const Deployment& d, const QString& crashPoint) {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("RAVEN_CRASH_POINT"), crashPoint);
        serve.setProcessEnvironment(env);
        serve.start(QStringLiteral(RAVEN_COORDINATOR_BINARY),
                    {QStringLiteral("serve"), QStringLiteral("--data-dir"), d.options.dataDir,
                     QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0"), QStringLiteral("--heartbeat-ms"),
                     QString::number(d.options.heartbeatIntervalMs), QStringLiteral("--lease-timeout-ms"),
                     QString::number(d.options.leaseTimeoutMs), QStringLiteral("--unit-deadline-ms"),
                     QString::number(d.options.unitDeadlineMs), QStringLiteral("--credit-window-s"),
                     QString::number(d.options.creditWindow.seconds), QStringLiteral("--credit-window-steps"),
                     QString::number(d.options.creditWindow.steps)});
        if (!serve.waitForStarted(10000))
            qFatal("raven-coordinator did not start: %s", qPrintable(serve.errorString()));
        QByteArray out;
        const QRegularExpression serving(QStringLiteral("serving (wss://\\S+)"));
        QRegularExpressionMatch match;
        const bool settled = QTest::qWaitFor(
            [&] {
                out += serve.readAllStandardOutput();
                match = serving.match(QString::fromUtf8(out));
                return match.hasMatch() || serve.state() == QProcess::NotRunning;
            },
            60000);
        if (!settled) qFatal("raven-coordinator neither served nor ended within 60 s");
        return match.hasMatch() ? QUrl(match.captured(1)) : QUrl();
    }

    std::optional<Trained> reference_;

    // `d` configured and started with rewindJob() submitted, and three workers, the first of them
    // changing its results with `cheat`; returns the job.
    static std::string startWithCheater(Deployment& d, std::vector<std::unique_ptr<TestWorker>>& pool,
                                        std::function<void(protocol::WorkResult&, int)> cheat) {
        configure(d);
        d.options.verificationSeed = 42;
        d.start();
        const std::string job = d.submitJob(*d.requester(), rewindJob());
        const std::vector<TestWorker::Behaviour> behaviours = {
            {1.0, 1, 0, std::move(cheat)}, {1.0, 1, 0, {}}, {1.0, 1, 0, {}}};
        for (std::size_t i = 0; i < behaviours.size(); ++i)
            pool.push_back(std::make_unique<TestWorker>(d.coordinator->url(),
                                                        d.coordinator->addContributor("w").toStdString(),
                                                        d.workerDir(QStringLiteral("worker%1").arg(i)), behaviours[i]));
        return job;
    }

    // Two new honest workers finish the job on the started coordinator `d`: its final weights must be
    // the clean run's bits (`when` names the moment, for the log).
    static void finishWithNewWorkers(Deployment& d, const std::string& job, const Trained& clean, const char* when) {
        QSignalSpy ended(d.coordinator.get(), &coordinator::Coordinator::jobEnded);
        std::vector<std::unique_ptr<TestWorker>> after;
        for (int i = 0; i < 2; ++i)
            after.push_back(std::make_unique<TestWorker>(
                d.coordinator->url(), d.coordinator->addContributor("again").toStdString(),
                d.workerDir(QStringLiteral("after%1").arg(i)), TestWorker::Behaviour{1.0, 1, 0, {}}));
        QVERIFY(QTest::qWaitFor([&] { return ended.size() == 1; }, 120000));
        QCOMPARE(ended[0][1].toString(), QStringLiteral("done"));
        const std::map<std::string, std::vector<float>> weights =
            checkpointWeights(d.downloadCheckpoint(*d.requester(), job));
        for (auto& w : after) w->stop();
        const QByteArray mine = weightsSha256(weights), theirs = weightsSha256(clean.weights);
        qInfo("final weights SHA-256 %s: %s, clean run %s", when, mine.constData(), theirs.constData());
        QCOMPARE(mine, theirs);
    }

    // After the rewind: the log says what was rewound, the archive went with the job, no credit was
    // paid for a wrong result, no honest worker was accused, and the audit passes.
    static void checkRewoundJob(Deployment& d, const Trained& run, std::vector<std::unique_ptr<TestWorker>>& pool) {
        const coordinator::JobFiles files(d.options.dataDir, std::stoll(run.job));
        QFile events(files.dir().filePath(QStringLiteral("events.jsonl")));
        QVERIFY(events.open(QIODevice::ReadOnly));
        const QByteArray log = events.readAll();
        QVERIFY2(log.contains("rewound from version"), log.right(3000).constData());
        QFile metrics(files.metricsPath());
        QVERIFY(metrics.open(QIODevice::ReadOnly));
        QVERIFY(metrics.readAll().contains("rewound_from_version"));
        QVERIFY(!QDir(coordinator::RewindArchive(files).dir()).exists());

        const TestWorker& cheater = *pool[0];
        const coordinator::ResultVerifier& verifier = d.coordinator->verifier();
        const ledger::Ledger& ledger = d.coordinator->ledger();
        const ledger::ContributorStats stats =
            ledger.contributorStats(cheater.contributorId, 1, QDateTime::currentDateTimeUtc());
        QCOMPARE(stats.pending, 0);
        QVERIFY(stats.earned <= cheater.credited - cheater.creditedForTampered);
        QVERIFY(stats.revoked >= cheater.creditedForTampered);
        for (std::size_t i = 1; i < pool.size(); ++i) {
            QVERIFY2(pool[i]->failures.empty(), pool[i]->failureText().c_str());
            QVERIFY(!verifier.quarantined(pool[i]->contributorId));
        }
        const ledger::AuditReport audit = ledger.audit();
        QVERIFY2(audit.ok(), qPrintable(audit.problems.join('\n')));
    }

private slots:
    void aTrustedCheatersUncheckedResultsAreRewoundOut() {
        const Trained& clean = reference();
        Deployment d;
        configure(d);
        std::vector<std::unique_ptr<TestWorker>> pool;
        int wrongSent = 0;
        const Trained run =
            train(d, {{1.0, 1, 0, cheater(d, pool, wrongSent)}, {1.0, 1, 0, {}}, {1.0, 1, 0, {}}}, pool);

        const TestWorker& cheater = *pool[0];
        const coordinator::ResultVerifier& verifier = d.coordinator->verifier();
        QVERIFY(verifier.quarantined(cheater.contributorId));
        QCOMPARE(wrongSent, 3);
        // The negated results were accepted unchecked (and summed into steps): the rewind had work.
        QVERIFY2(cheater.creditedForTampered > 0, "no wrong result was accepted: the test proves nothing");

        // Nothing wrong remains in the model: the clean run's bits.
        const QByteArray mine = weightsSha256(run.weights), theirs = weightsSha256(clean.weights);
        qInfo("final weights SHA-256: rewound run %s, clean run %s", mine.constData(), theirs.constData());
        QCOMPARE(mine, theirs);
        QCOMPARE(run.weights.size(), clean.weights.size());
        for (const auto& [name, values] : clean.weights) QVERIFY2(run.weights.at(name) == values, name.c_str());

        // The job's log and metrics say what was rewound; no credit for a wrong result.
        checkRewoundJob(d, run, pool);
    }

    // A fast job with centred clipping and spot checks is rewound the same way: the suspects are
    // replayed and compared within the fast kernels' tolerance, the negated ones found, and the steps
    // from the first wrong one recomputed by the coordinator and combined robustly. The in-test
    // workers and the coordinator's replay run the same fast CPU kernels on one thread, so here the
    // result is again the clean run's bits (across devices it would be the honest results' rounding).
    void aSpotCheckedFastJobIsRewoundToo() {
        Deployment clean;
        std::vector<std::unique_ptr<TestWorker>> honestPool;
        const Trained reference =
            train(clean, {{1.0, 1, 0, {}}, {1.0, 1, 0, {}}, {1.0, 1, 0, {}}}, honestPool, spotCheckedJob());
        Deployment d;
        configure(d);
        std::vector<std::unique_ptr<TestWorker>> pool;
        int wrongSent = 0;
        const Trained run = train(d, {{1.0, 1, 0, cheater(d, pool, wrongSent)}, {1.0, 1, 0, {}}, {1.0, 1, 0, {}}}, pool,
                                  spotCheckedJob());
        QVERIFY(d.coordinator->verifier().quarantined(pool[0]->contributorId));
        QCOMPARE(wrongSent, 3);
        QVERIFY2(pool[0]->creditedForTampered > 0, "no wrong result was accepted: the test proves nothing");
        const QByteArray mine = weightsSha256(run.weights), theirs = weightsSha256(reference.weights);
        qInfo("fast, spot-checked, centred-clip: rewound run %s, clean run %s", mine.constData(), theirs.constData());
        QCOMPARE(mine, theirs);
        checkRewoundJob(d, run, pool);
    }

    // The coordinator stops (as a crash: nothing saved on the way out) right after the cheater is
    // caught, before the rewind ran or while it runs: the rewind due is on disk (due.json), and the
    // restarted coordinator does it (again), so the job still ends with the clean run's bits.
    void aRewindDueSurvivesARestart() {
        const Trained& clean = reference();
        Deployment d;
        std::vector<std::unique_ptr<TestWorker>> pool;
        int wrongSent = 0;
        const std::string job = startWithCheater(d, pool, cheater(d, pool, wrongSent));
        QVERIFY(QTest::qWaitFor([&] { return d.coordinator->verifier().quarantined(pool[0]->contributorId); }, 120000));
        QVERIFY2(pool[0]->creditedForTampered > 0, "no wrong result was accepted: the test proves nothing");
        for (auto& w : pool) w->stop();
        d.coordinator.reset();
        const coordinator::JobFiles files(d.options.dataDir, std::stoll(job));
        const std::set<ledger::WorkUnitId> due = coordinator::RewindArchive(files).due();
        qInfo("stopped with %zu suspect result(s) due for a rewind", due.size());
        QVERIFY(!due.empty());

        d.start();
        finishWithNewWorkers(d, job, clean, "after the restart");
        QFile events(files.dir().filePath(QStringLiteral("events.jsonl")));
        QVERIFY(events.open(QIODevice::ReadOnly));
        QVERIFY(events.readAll().contains("rewound from version"));
        const ledger::AuditReport audit = d.coordinator->ledger().audit();
        QVERIFY2(audit.ok(), qPrintable(audit.problems.join('\n')));
    }

    // Two crashes on one job. (1) The coordinator stops right after it records a quarantine (the
    // TrustBook) and before due.json: written here directly into the store of a stopped coordinator
    // whose cheater was never caught, its negated results summed into steps, their credits pending.
    // The next start must write the rewind due before it revokes those credits. (2) That start is a
    // real raven-coordinator process armed at rewind-state-written: it rewinds, writes the job's state
    // file and dies there (std::_Exit, as a kill), its staged states and results not moved in. The
    // coordinator started after it takes the staging, finds the suspects matching, and ends the job
    // with the clean run's bits; `raven-coordinator audit` passes.
    void aQuarantineCutShortAndARewindKilledAtItsStateWriteStillEndClean() {
        const Trained& clean = reference();
        Deployment d;
        std::vector<std::unique_ptr<TestWorker>> pool;
        int wrongSent = 0;
        const std::string job = startWithCheater(d, pool, unseenCheater(d, pool, wrongSent));
        // Stopped at the first wrong result accepted: the cheater's units are mostly replayed (its rate
        // halves to the floor), so waiting for more could let the job end first.
        QVERIFY(QTest::qWaitFor([&] { return pool[0]->creditedForTampered > 0; }, 120000));
        const ledger::ContributorId cheater = pool[0]->contributorId;
        QVERIFY(!d.coordinator->verifier().quarantined(cheater));
        for (auto& w : pool) w->stop();
        d.coordinator.reset();  // as a crash: nothing saved on the way out

        const coordinator::JobFiles files(d.options.dataDir, std::stoll(job));
        const coordinator::RewindArchive archive(files);
        QStringList tokens;
        {
            ledger::CoordinatorStore store(QDir(d.options.dataDir).filePath(QStringLiteral("coordinator.sqlite")));
            ledger::TrustBook(store).recordQuarantine(
                cheater, QStringLiteral("work unit 0 replayed: written by the test"), QDateTime::currentDateTimeUtc());
            QVERIFY(!ledger::Ledger(store).pendingCredits(cheater).isEmpty());
            QCOMPARE(store.job(std::stoll(job))->state, ledger::JobState::Running);
            for (int i = 0; i < 2; ++i) tokens << coordinator::admin::addContributor(store, QStringLiteral("after"));
        }
        QVERIFY(archive.due().empty());  // the crash came before due.json

        QProcess serve;
        const QUrl url = serveAsProcess(serve, d, QStringLiteral("rewind-state-written"));
        std::vector<std::unique_ptr<TestWorker>> killed;
        if (!url.isEmpty())
            for (int i = 0; i < 2; ++i)
                killed.push_back(std::make_unique<TestWorker>(url, tokens[i].toStdString(),
                                                              d.workerDir(QStringLiteral("killed%1").arg(i)),
                                                              TestWorker::Behaviour{1.0, 1, 0, {}}));
        QVERIFY(QTest::qWaitFor([&] { return serve.state() == QProcess::NotRunning; }, 120000));
        for (auto& w : killed) w->stop();
        const QByteArray log = serve.readAllStandardError();
        QVERIFY2(serve.exitStatus() == QProcess::NormalExit && serve.exitCode() == coordinator::kCrashExitCode,
                 log.right(3000).constData());
        QVERIFY2(log.contains("crash point rewind-state-written reached"), log.right(3000).constData());
        for (const QByteArray& line : log.split('\n'))
            if (line.contains("quarantined before") || line.contains("crash point")) qInfo("%s", line.constData());
        // It died between the two writes: the state file is the rewind's, the staging still waits.
        QVERIFY(QFile::exists(QDir(archive.dir()).filePath(QStringLiteral("commit.json"))));
        QVERIFY(QDir(archive.staging().dir()).exists());
        {
            ledger::CoordinatorStore store(QDir(d.options.dataDir).filePath(QStringLiteral("coordinator.sqlite")));
            QVERIFY(ledger::Ledger(store).pendingCredits(cheater).isEmpty());  // revoked after due.json
        }
        qInfo("killed at rewind-state-written with %zu suspect result(s) due", archive.due().size());
        QVERIFY(!archive.due().empty());

        d.start();
        QVERIFY(!QDir(archive.staging().dir()).exists());  // taken at start-up
        finishWithNewWorkers(d, job, clean, "after the kill");
        // The rewind done again after the kill found its work done: every suspect already matching.
        QFile events(files.dir().filePath(QStringLiteral("events.jsonl")));
        QVERIFY(events.open(QIODevice::ReadOnly));
        QVERIFY(events.readAll().contains("all matched, nothing to rewind"));
        d.coordinator.reset();

        QProcess audit;
        audit.start(QStringLiteral(RAVEN_COORDINATOR_BINARY),
                    {QStringLiteral("audit"), QStringLiteral("--data-dir"), d.options.dataDir});
        QVERIFY(audit.waitForFinished(60000));
        const QByteArray report = audit.readAllStandardOutput() + audit.readAllStandardError();
        QVERIFY2(audit.exitCode() == 0, report.constData());
        QVERIFY2(report.contains("every shard of every step counted exactly once"), report.constData());
    }
};

QTEST_GUILESS_MAIN(RewindTest)
#include "tst_Rewind.moc"
