// Crash safety: a Coordinator destroyed mid-step without any shutdown (leases alive, results
// accepted but the step not applied) and a new one constructed on the same data directory carries
// every job on from where its files say it stands. Nothing accepted is lost, nothing is paid twice,
// and the trained weights still equal local training. (The SIGKILL test with real processes is in
// tests/e2e; here the "crash" points are reproduced exactly by stopping the engine between the
// operations the coordinator performs.)
#include <QtTest>

#include <cstring>

#include "CoordinatorTestKit.h"
#include "coordinator/DurableFile.h"
#include "coordinator/JobFiles.h"
#include "coordinator/JobRunner.h"
#include "ledger/LeaseBook.h"

using namespace raven;
using namespace raven::test;

class CoordinatorRestartTest : public QObject {
    Q_OBJECT

    std::unique_ptr<Deployment> d_;
    std::string job_;
    std::string tokenA_;
    std::unique_ptr<SyncClient> a_;
    std::unique_ptr<UnitComputer> cacheA_;

    qint64 creditEntries() {
        return d_->coordinator->store()
            .connection()
            .scalar(QStringLiteral("SELECT COUNT(*) FROM entries WHERE kind = 'work_unit_credit'"))
            .toLongLong();
    }

    ledger::JobId jobId() const { return std::stoll(job_); }

    // A's lease of up to `n` units, computed; the results are submitted by the caller.
    std::vector<std::pair<wire::WorkUnit, protocol::WorkResult>> leaseAndCompute(unsigned n) {
        std::vector<std::pair<wire::WorkUnit, protocol::WorkResult>> out;
        const wire::Envelope grant = a_->call(leaseRequest(n));
        for (const wire::WorkUnit& unit : grant.lease_grant().units()) {
            if (!fetchForUnit(*a_, *cacheA_, unit)) qFatal("fetching for unit %s failed", unit.id().c_str());
            out.emplace_back(unit, cacheA_->compute(unit));
        }
        return out;
    }

    void startJob() {
        auto requester = d_->requester();
        job_ = d_->submitJob(*requester, adamHyperparameters(1));
        a_ = d_->contributor(&tokenA_);
        cacheA_ = std::make_unique<UnitComputer>(d_->workerDir("a"));
        // Step 0 entirely by A.
        for (auto& [unit, result] : leaseAndCompute(2))
            QCOMPARE(submit(*a_, result).result_ack().status(), wire::RESULT_STATUS_ACCEPTED);
        // The last result is answered first; the step is applied off the event loop right after.
        QTRY_COMPARE(d_->coordinator->store().job(jobId())->modelVersion, 1);
    }

    // The crash: the engine goes away with no shutdown of any kind; its clients' connections drop.
    void crash() {
        d_->coordinator.reset();
        a_.reset();
    }

    void restart() {
        d_->start();
        QVERIFY(d_->coordinator->ledger().audit().ok());
    }

    // A fresh worker runs the job to its end; the weights must equal local training.
    void finishAndCompare() {
        QSignalSpy ended(d_->coordinator.get(), &coordinator::Coordinator::jobEnded);
        const std::optional<ledger::Job> before = d_->coordinator->store().job(jobId());
        if (before->state != ledger::JobState::Done) {
            TestWorker worker(d_->coordinator->url(), d_->coordinator->addContributor("b").toStdString(),
                              d_->workerDir("b"), TestWorker::Behaviour{1.0, 2, 0});
            QTRY_VERIFY_WITH_TIMEOUT(ended.size() == 1, 30000);
            QVERIFY2(worker.failures.empty(), worker.failureText().c_str());
            worker.stop();
        }
        auto requester = d_->requester();
        const auto info = d_->jobInfo(*requester, job_);
        QCOMPARE(info->state(), wire::JOB_STATE_COMPLETED);
        const double diff = relativeDifference(checkpointWeights(d_->downloadCheckpoint(*requester, job_)),
                                               localTraining(d_->dataset, adamHyperparameters(1)));
        qInfo("max |coordinator - local| / max |local| = %.3g", diff);
        QVERIFY2(diff < 1e-5, qPrintable(QString::number(diff)));
        // Exactly once: 11 units, 11 payments, whatever happened in between.
        const QList<ledger::WorkUnit> units = d_->coordinator->store().workUnits(jobId());
        QCOMPARE(units.size(), 11);
        QCOMPARE(creditEntries(), 11);
        const ledger::AuditReport audit = d_->coordinator->ledger().audit();
        QVERIFY2(audit.ok(), qPrintable(audit.problems.join("; ")));
    }

private slots:
    void init() {
        d_ = std::make_unique<Deployment>();
        d_->start();
    }
    void cleanup() {
        if (d_->coordinator) {
            const ledger::AuditReport audit = d_->coordinator->ledger().audit();
            QVERIFY2(audit.ok(), qPrintable(audit.problems.join("; ")));
        }
        a_.reset();
        d_.reset();
    }

    void crashWithLeasesOutstanding() {
        startJob();
        // Step 1: one result accepted, the other unit still leased when the coordinator dies.
        auto work = leaseAndCompute(2);
        QCOMPARE(work.size(), size_t(2));
        QCOMPARE(submit(*a_, work[0].second).result_ack().status(), wire::RESULT_STATUS_ACCEPTED);
        const ledger::WorkUnitId done = std::stoll(work[0].first.id());
        const ledger::WorkUnitId held = std::stoll(work[1].first.id());
        const ledger::ContributorId contributorA = *d_->coordinator->store().workUnit(held)->leaseHolder;
        const ledger::MicroCredits earned =
            d_->coordinator->ledger().balance(ledger::Account::contributor(contributorA));
        QCOMPARE(d_->coordinator->store().workUnit(held)->state, ledger::WorkUnitState::Leased);
        crash();

        restart();
        ledger::CoordinatorStore& store = d_->coordinator->store();
        QCOMPARE(store.job(jobId())->modelVersion, 1);
        QCOMPARE(store.workUnit(done)->state, ledger::WorkUnitState::Done);     // kept, not re-issued
        QCOMPARE(store.workUnit(held)->state, ledger::WorkUnitState::Pending);  // the dead lease's unit is free
        QVERIFY(QFile::exists(coordinator::JobFiles(d_->options.dataDir, jobId()).resultPath(done)));
        QCOMPARE(creditEntries(), 3);
        QCOMPARE(d_->coordinator->ledger().balance(ledger::Account::contributor(contributorA)), earned);

        // A comes back with the result of its dead lease: not counted, not paid, not held against it.
        SyncClient back(d_->coordinator->url(), wire::ROLE_CONTRIBUTOR, d_->knownHosts());
        QVERIFY(back.call(authenticateWithToken(tokenA_)).auth_result().accepted());
        const wire::Envelope late = submit(back, work[1].second);
        QCOMPARE(late.result_ack().status(), wire::RESULT_STATUS_REJECTED);
        QCOMPARE(creditEntries(), 3);
        QCOMPARE(d_->coordinator->ledger()
                     .contributorStats(contributorA, 1, QDateTime::currentDateTimeUtc())
                     .resultsRejected,
                 0);
        finishAndCompare();
    }

    void crashAfterAcceptanceBeforeTheStep() {
        startJob();
        auto work = leaseAndCompute(2);
        QCOMPARE(submit(*a_, work[0].second).result_ack().status(), wire::RESULT_STATUS_ACCEPTED);
        const ledger::WorkUnitId last = std::stoll(work[1].first.id());
        const ledger::ContributorId contributorA = *d_->coordinator->store().workUnit(last)->leaseHolder;
        crash();

        // What the coordinator had done for the step's last result when it died: the gradient on
        // disk, then the acceptance (and payment) in the store; the optimizer step had not run. The
        // files are written in the two-file layout of the coordinators before ResultFile: an upgraded
        // coordinator must still apply a step its predecessor left half done.
        {
            const coordinator::JobFiles files(d_->options.dataDir, jobId());
            const protocol::WorkResult& r = work[1].second;
            QByteArray values(static_cast<qsizetype>(r.gradient.size() * sizeof(float)), Qt::Uninitialized);
            std::memcpy(values.data(), r.gradient.data(), static_cast<std::size_t>(values.size()));
            QFile f32(files.gradientPath(last));
            QVERIFY(f32.open(QIODevice::WriteOnly) && f32.write(values) == values.size());
            f32.close();
            QFile info(files.resultInfoPath(last));
            QVERIFY(info.open(QIODevice::WriteOnly));
            info.write(QStringLiteral(R"({"samples":%1,"loss_sum":%2,"correct":%3,"contributor":%4})")
                           .arg(r.sampleCount)
                           .arg(r.loss, 0, 'g', 17)
                           .arg(r.correct)
                           .arg(contributorA)
                           .toUtf8());
            info.close();
            ledger::CoordinatorStore store(QDir(d_->options.dataDir).filePath("coordinator.sqlite"));
            ledger::Ledger ledger(store, testRate(), d_->options.creditWindow);
            ledger::LeaseBook leases(store, ledger);
            QCOMPARE(leases.acceptResult(last, contributorA, QDateTime::currentDateTimeUtc()).outcome,
                     ledger::AcceptOutcome::Accepted);
            QCOMPARE(store.job(jobId())->modelVersion, 1);
        }

        restart();
        // Every unit of step 1 was done: the step is applied at start-up.
        QCOMPARE(d_->coordinator->store().job(jobId())->modelVersion, 2);
        QCOMPARE(creditEntries(), 4);
        QVERIFY(QDir(coordinator::JobFiles(d_->options.dataDir, jobId()).resultsDir()).isEmpty());
        finishAndCompare();
    }

    void crashAfterTheStateFileBeforeTheStore() {
        startJob();
        crash();
        // The state file says version 1; the store had not heard of it yet.
        {
            ledger::CoordinatorStore store(QDir(d_->options.dataDir).filePath("coordinator.sqlite"));
            store.setJobModelVersion(jobId(), 0, QDateTime::currentDateTimeUtc());
        }
        restart();
        QCOMPARE(d_->coordinator->store().job(jobId())->modelVersion, 1);    // corrected from the file
        QCOMPARE(d_->coordinator->store().workUnits(jobId(), 1).size(), 2);  // and step 1 goes on
        finishAndCompare();
    }

    // Step V + 1's units are leased the moment its weights exist and their results paid while V's
    // state file is written (JobRunner::leasesAhead()). The crash: one of them paid, V's state file not
    // yet moved to V + 1. The start-up applies V again (the same bits) and keeps the paid result.
    void crashWithTheNextStepPaidBeforeTheStateFile() {
        startJob();
        const coordinator::JobFiles files(d_->options.dataDir, jobId());
        QTemporaryDir saved;
        QVERIFY(QFile::copy(files.statePath(), saved.filePath("state-1.safetensors")));
        auto step1 = leaseAndCompute(2);
        for (auto& [unit, result] : step1)
            QCOMPARE(submit(*a_, result).result_ack().status(), wire::RESULT_STATUS_ACCEPTED);
        QTRY_COMPARE(d_->coordinator->store().job(jobId())->modelVersion, 2);
        auto step2 = leaseAndCompute(1);  // on version 2's weights
        QCOMPARE(step2.size(), size_t(1));
        QCOMPARE(submit(*a_, step2[0].second).result_ack().status(), wire::RESULT_STATUS_ACCEPTED);
        const ledger::WorkUnitId ahead = std::stoll(step2[0].first.id());
        const ledger::ContributorId contributorA = *d_->coordinator->store().workUnit(ahead)->acceptedFrom;
        crash();

        // Back to the moment: version 1's state file, step 1's results on disk, the store at 1, and
        // step 2's units made with one of them done and paid.
        QVERIFY(QFile::remove(files.statePath()));
        QVERIFY(QFile::copy(saved.filePath("state-1.safetensors"), files.statePath()));
        for (const auto& [unit, result] : step1)
            coordinator::writeDurably(
                {coordinator::JobRunner::resultFile(files, std::stoll(unit.id()), contributorA, result, QString())});
        {
            ledger::CoordinatorStore store(QDir(d_->options.dataDir).filePath("coordinator.sqlite"));
            store.setJobModelVersion(jobId(), 1, QDateTime::currentDateTimeUtc());
            QCOMPARE(store.workUnit(ahead)->state, ledger::WorkUnitState::Done);
        }

        restart();
        QCOMPARE(d_->coordinator->store().job(jobId())->modelVersion, 2);  // step 1 applied at start-up
        QCOMPARE(creditEntries(), 5);                                      // 2 + 2 + the one paid ahead
        QVERIFY(QFile::exists(files.resultPath(ahead)));                   // kept for step 2
        QCOMPARE(d_->coordinator->store().workUnit(ahead)->state, ledger::WorkUnitState::Done);
        finishAndCompare();
    }

    void aSecondCoordinatorOnTheSameDirectoryIsRefused() {
        bool refused = false;
        try {
            coordinator::Coordinator second(d_->options);
        } catch (const std::exception& error) {
            refused = std::string(error.what()).find("another coordinator") != std::string::npos;
        }
        QVERIFY(refused);
    }

    void aDamagedJobFailsAloneAndIsRefunded() {
        startJob();
        auto requester = d_->requester();
        const std::string other = d_->submitJob(*requester, adamHyperparameters(1));
        crash();
        QFile::remove(coordinator::JobFiles(d_->options.dataDir, jobId()).statePath());
        restart();
        const auto info = d_->jobInfo(*d_->requester(), job_);
        QCOMPARE(info->state(), wire::JOB_STATE_FAILED);
        QVERIFY2(info->message().find("state.safetensors") != std::string::npos, info->message().c_str());
        QCOMPARE(d_->coordinator->ledger().jobSpend(jobId()).escrow, 0);
        QCOMPARE(d_->jobInfo(*d_->requester(), other)->state(), wire::JOB_STATE_RUNNING);
    }
};

QTEST_GUILESS_MAIN(CoordinatorRestartTest)
#include "tst_CoordinatorRestart.moc"
