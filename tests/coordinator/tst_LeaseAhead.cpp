// Issue 17 item 3: a synchronous job's step V + 1 is leased the moment its weights exist, while V's
// state file is still being written (JobRunner::leasesAhead()). A JobRunner on real files: its step's
// weights are handed out before the state file holds V + 1, are the bits the step then keeps, and make
// V + 1's units leasable and their results taken; a job whose results can be rewound does not go ahead.
#include <QtTest>

#include <cmath>

#include "CoordinatorTestKit.h"
#include "base/Error.h"
#include "checkpoint/Checkpoint.h"
#include "coordinator/JobRunner.h"
#include "data/Fixtures.h"

using namespace raven;
using namespace raven::test;
using coordinator::JobRunner;

class LeaseAheadTest : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    data::Dataset dataset_ = testing::syntheticDataset(330, 40);
    std::unique_ptr<data::ShardStore> shards_;
    data::Manifest manifest_;

    std::unique_ptr<JobRunner> runner(coordinator::JobConfig config) {
        ledger::Job job;
        job.id = 1;
        job.dataset = manifest_.id;
        return std::make_unique<JobRunner>(job, std::move(config), testing::kSyntheticMlpSpec, manifest_, *shards_,
                                           coordinator::JobFiles(dir_.filePath("coordinator"), job.id), 0);
    }
    static coordinator::JobConfig config() {
        const QString spec = protocol::sha256Hex(QByteArray(testing::kSyntheticMlpSpec));
        return coordinator::JobConfig::fromWire(adamHyperparameters(2), 0, spec);
    }
    // Step 0's units, one shard each, done, with a result kept for each.
    static QList<ledger::WorkUnit> doneStepZero(JobRunner& r) { return doneStep(r, 0, 1); }
    // The units of step `step` (ids from `firstId`), done, with a result kept for each, but for the
    // last `withheld` ones (left not done, their results made and not kept).
    static QList<ledger::WorkUnit> doneStep(JobRunner& r, qint64 step, ledger::WorkUnitId firstId, int withheld = 0,
                                            std::vector<protocol::WorkResult>* withheldResults = nullptr) {
        QList<ledger::WorkUnit> units;
        ledger::WorkUnitId id = firstId;
        const QList<ledger::NewWorkUnit> made = r.unitsOfStep(step, 1);
        for (qsizetype i = 0; i < made.size(); ++i) {
            ledger::WorkUnit u;
            u.id = id++;
            u.job = r.id();
            u.modelVersion = step;
            u.shardHashes = made[i].shardHashes;
            u.state = ledger::WorkUnitState::Done;
            protocol::WorkResult result;
            // Values that round when added and differ from unit to unit: a sum in another order,
            // or a result added twice, shows in the bits.
            result.gradient.resize(static_cast<std::size_t>(r.parameterCount()));
            for (std::size_t k = 0; k < result.gradient.size(); ++k)
                result.gradient[k] = 0.25f * static_cast<float>(u.id) + 1e-3f * static_cast<float>((k * 7 + u.id) % 13);
            result.sampleCount = static_cast<std::uint64_t>(r.samplesOf(u.shardHashes));
            result.loss = 1.0 + 0.1 * static_cast<double>(u.id);
            result.correct = static_cast<std::uint64_t>(u.id % 3);
            if (i >= made.size() - withheld) {
                u.state = ledger::WorkUnitState::Leased;
                if (withheldResults) withheldResults->push_back(std::move(result));
            } else {
                r.keepResult(u.id, 7, std::move(result));
            }
            units << u;
        }
        return units;
    }
    // Step 0 taken ahead on its last unit's result (`units` from doneStep with one withheld), its
    // model and optimizer copied: what the engine starts on the pool.
    static std::optional<coordinator::StepWork> stepZeroAhead(JobRunner& r, const QList<ledger::WorkUnit>& units,
                                                              const protocol::WorkResult& last) {
        r.sumAccepted(units);
        std::optional<coordinator::StepWork> ahead = r.takeStepAhead(units, lastResultOf(units.last(), last));
        if (ahead) JobRunner::copyStateAhead(*ahead);
        return ahead;
    }
    static JobRunner::LastResult lastResultOf(const ledger::WorkUnit& unit, const protocol::WorkResult& result) {
        return {unit.id,
                8,
                static_cast<std::int64_t>(result.sampleCount),
                result.loss,
                static_cast<std::int64_t>(result.correct),
                result.gradient};
    }
    // What the engine does once the store has paid the last result: kept, its unit done.
    static void accept(JobRunner& r, QList<ledger::WorkUnit>& units, protocol::WorkResult result) {
        r.keepResult(units.last().id, 8, std::move(result));
        units.last().state = ledger::WorkUnitState::Done;
    }
    static QByteArray readFile(const QString& path) {
        QFile f(path);
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }
    static qint64 stepInStateFile(const JobRunner& r) {
        return Checkpoint::read(r.files().statePath().toStdString()).step;
    }

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        shards_ = std::make_unique<data::ShardStore>(dir_.filePath("shards"));
        manifest_ = data::publishDataset(dataset_, *shards_, 32);
    }
    void cleanup() { QDir(dir_.filePath("coordinator")).removeRecursively(); }

    void aStepsWeightsGoOutBeforeItsStateFileIsWritten() {
        std::unique_ptr<JobRunner> r = runner(config());
        QVERIFY(r->leasesAhead());
        QCOMPARE(r->leasedStep(), qint64(0));
        coordinator::StepWork work = r->prepareStep(doneStepZero(*r));
        QVERIFY(work.weightsAhead);

        QByteArray handedOut;
        qint64 stateWhenHandedOut = -1;
        const coordinator::StepProduct product = JobRunner::computeStep(work, [&](const QByteArray& weights) {
            handedOut = weights;
            stateWhenHandedOut = stepInStateFile(*r);
            r->publishAhead(weights);  // what the event loop does with them
            QCOMPARE(r->leasedStep(), qint64(1));
            QVERIFY(r->takesResultsOf(1));
            QVERIFY(r->takesResultsOf(0));
            QCOMPARE(r->version(), qint64(0));
        });
        QCOMPARE(stateWhenHandedOut, qint64(0));  // V's state: V + 1's was not durable yet
        QCOMPARE(stepInStateFile(*r), qint64(1));
        QVERIFY(!handedOut.isEmpty());
        QCOMPARE(handedOut, product.weights);  // the same bits the step keeps and a restart recomputes
        QVERIFY(r->weights(1) && *r->weights(1) == product.weights);

        coordinator::StepProduct finished = product;
        r->finishStep(std::move(finished));
        QCOMPARE(r->version(), qint64(1));
        QCOMPARE(r->leasedStep(), qint64(1));
        QVERIFY(!r->takesResultsOf(2));
        QVERIFY(r->weights(0) && r->weights(1));
    }

    // The coordinator sends the grants between the step's two halves (Engine::writeStepState): they
    // make the step computeStep() makes, and the first leaves V's state file as it was.
    void theStepsTwoHalvesMakeWhatTheWholeStepMakes() {
        QByteArray wholeWeights, wholeState;
        {
            std::unique_ptr<JobRunner> r = runner(config());
            coordinator::StepWork work = r->prepareStep(doneStepZero(*r));
            wholeWeights = JobRunner::computeStep(work).weights;
            wholeState = readFile(r->files().statePath());
        }
        cleanup();
        std::unique_ptr<JobRunner> r = runner(config());
        coordinator::StepWork work = r->prepareStep(doneStepZero(*r));
        const QByteArray stateBefore = readFile(r->files().statePath());
        coordinator::StepProduct product = JobRunner::computeWeights(work);
        QCOMPARE(product.weights, wholeWeights);
        QCOMPARE(stepInStateFile(*r), qint64(0));
        QCOMPARE(readFile(r->files().statePath()), stateBefore);
        r->publishAhead(product.weights);
        JobRunner::writeStepState(work);
        QCOMPARE(readFile(r->files().statePath()), wholeState);
        r->finishStep(std::move(product));
        QCOMPARE(r->version(), qint64(1));
    }

    // StepsAhead.h: while the step's last result is written and paid, V + 1's weights are computed on
    // copies; once it is accepted the step adopts them. Two steps (the second on the spares the first
    // left, with Adam's moments no longer zero) make the weights, state files and reports of the
    // usual path, and until the adoption the runner's state is V's.
    void aStepTakenAheadOfItsLastAcceptanceMakesWhatTheStepMakes() {
        std::vector<QByteArray> usualWeights, usualStates;
        std::vector<coordinator::StepReport> usualReports;
        {
            std::unique_ptr<JobRunner> r = runner(config());
            for (qint64 step = 0; step < 2; ++step) {
                coordinator::StepWork work = r->prepareStep(doneStep(*r, step, 1 + 100 * step));
                coordinator::StepProduct product = JobRunner::computeStep(work);
                usualWeights.push_back(product.weights);
                usualStates.push_back(readFile(r->files().statePath()));
                usualReports.push_back(r->finishStep(std::move(product)));
            }
        }
        cleanup();
        std::unique_ptr<JobRunner> r = runner(config());
        for (qint64 step = 0; step < 2; ++step) {
            std::vector<protocol::WorkResult> last;
            QList<ledger::WorkUnit> units = doneStep(*r, step, 1 + 100 * step, 1, &last);
            QVERIFY(units.size() >= 2);
            r->sumAccepted(units);  // the running sum of the results paid before the last
            const QByteArray stateBefore = readFile(r->files().statePath());
            const QByteArray weightsBefore = *r->weights(step);

            std::optional<coordinator::StepWork> ahead = r->takeStepAhead(units, lastResultOf(units.last(), last[0]));
            QVERIFY(ahead.has_value());
            QVERIFY(ahead->weightsAhead);
            JobRunner::copyStateAhead(*ahead);
            coordinator::StepProduct product = JobRunner::computeWeights(*ahead);
            // Nothing of V + 1 is the runner's yet: its weights, state file and version are V's.
            QCOMPARE(r->version(), step);
            QVERIFY(!r->stepping());
            QCOMPARE(*r->weights(step), weightsBefore);
            QCOMPARE(readFile(r->files().statePath()), stateBefore);

            accept(*r, units, std::move(last[0]));
            r->adoptStepAhead(*ahead, units, units.last().id);
            QVERIFY(r->stepping());
            QCOMPARE(product.weights, usualWeights[static_cast<std::size_t>(step)]);
            r->publishAhead(product.weights);
            JobRunner::writeStepState(*ahead);
            QCOMPARE(readFile(r->files().statePath()), usualStates[static_cast<std::size_t>(step)]);
            const coordinator::StepReport report = r->finishStep(std::move(product));
            const coordinator::StepReport& usual = usualReports[static_cast<std::size_t>(step)];
            QCOMPARE(report.step, usual.step);
            QCOMPARE(report.samples, usual.samples);
            QCOMPARE(report.trainLoss, usual.trainLoss);
            QCOMPARE(report.accuracy, usual.accuracy);
            QCOMPARE(report.learningRate, usual.learningRate);
            QCOMPARE(report.contributors, QList<ledger::ContributorId>({7, 8}));
            QCOMPARE(r->keptCount(), std::size_t(0));  // the last result went with the step
        }
        QCOMPARE(r->version(), qint64(2));
    }

    // Only the plain case is taken ahead: the result must be the step's last unit's, every other
    // result summed, the runner not stepping, and the job one that leases ahead.
    void aStepIsTakenAheadOnlyOnItsLastUnitsResultWithAllOthersSummed() {
        std::unique_ptr<JobRunner> r = runner(config());
        std::vector<protocol::WorkResult> last;
        QList<ledger::WorkUnit> units = doneStep(*r, 0, 1, 2, &last);
        r->sumAccepted(units);
        // Two results missing: the second to last does not complete the step, nor does the last.
        QVERIFY(!r->takeStepAhead(units, lastResultOf(units[units.size() - 2], last[0])));
        QVERIFY(!r->takeStepAhead(units, lastResultOf(units.last(), last[1])));
        // The second to last paid: the last one completes it.
        r->keepResult(units[units.size() - 2].id, 7, std::move(last[0]));
        units[units.size() - 2].state = ledger::WorkUnitState::Done;
        r->sumAccepted(units);
        // Not while a result of the wrong size, or one that leaves samples out, would be taken.
        protocol::WorkResult shortResult = last[1];
        shortResult.gradient.pop_back();
        QVERIFY(!r->takeStepAhead(units, lastResultOf(units.last(), shortResult)));
        protocol::WorkResult fewer = last[1];
        fewer.sampleCount -= 1;
        QVERIFY(!r->takeStepAhead(units, lastResultOf(units.last(), fewer)));
        QVERIFY(r->takeStepAhead(units, lastResultOf(units.last(), last[1])).has_value());

        coordinator::JobConfig verifiable = config();
        verifiable.kernelMode = KernelMode::Verifiable;  // no step of it goes ahead
        cleanup();
        std::unique_ptr<JobRunner> replayed = runner(verifiable);
        std::vector<protocol::WorkResult> its;
        QList<ledger::WorkUnit> itsUnits = doneStep(*replayed, 0, 1, 1, &its);
        replayed->sumAccepted(itsUnits);
        QVERIFY(!replayed->takeStepAhead(itsUnits, lastResultOf(itsUnits.last(), its[0])));
    }

    // A step taken ahead whose adoption does not fit the store's step (another unit last, not all
    // done) is refused whole, and the usual path still applies the step.
    void aStepTakenAheadIsNotAdoptedForAnotherStep() {
        std::unique_ptr<JobRunner> r = runner(config());
        std::vector<protocol::WorkResult> last;
        QList<ledger::WorkUnit> units = doneStep(*r, 0, 1, 1, &last);
        std::optional<coordinator::StepWork> ahead = stepZeroAhead(*r, units, last[0]);
        QVERIFY(ahead.has_value());
        JobRunner::computeWeights(*ahead);
        const auto refused = [&](ledger::WorkUnitId lastId) {
            try {
                r->adoptStepAhead(*ahead, units, lastId);
            } catch (const raven::Error&) {
                return true;
            }
            return false;
        };
        QVERIFY(refused(units.last().id));  // not done yet
        QVERIFY(!r->stepping());
        accept(*r, units, std::move(last[0]));
        QVERIFY(refused(units.first().id));
        QVERIFY(!r->stepping());
        coordinator::StepWork work = r->prepareStep(units);  // the usual path: the sum's last result added
        QCOMPARE(JobRunner::computeStep(work).weights.isEmpty(), false);
    }

    // A step whose summed gradient overflowed (results finite on their own, as 3e38 each) fails with
    // the reason, ahead and on the usual path alike, and V's state file stays as it was.
    void aStepWhoseSumOverflowsFailsWithTheReason() {
        std::unique_ptr<JobRunner> r = runner(config());
        std::vector<protocol::WorkResult> last;
        QList<ledger::WorkUnit> units = doneStep(*r, 0, 1, 1, &last);
        const QByteArray stateBefore = readFile(r->files().statePath());
        volatile float large = 3e38f;
        const float overflowed = large + large;
        QVERIFY(std::isinf(overflowed));

        std::optional<coordinator::StepWork> ahead = stepZeroAhead(*r, units, last[0]);
        QVERIFY(ahead.has_value());
        ahead->gradientSum[5] = overflowed;
        testing::expectError([&] { JobRunner::computeWeights(*ahead); }, {"averaged gradient of step 0 is not finite"});

        accept(*r, units, std::move(last[0]));
        coordinator::StepWork work = r->prepareStep(units);
        work.gradientSum[5] = overflowed;
        testing::expectError([&] { JobRunner::computeStep(work); }, {"averaged gradient of step 0 is not finite"});
        QCOMPARE(readFile(r->files().statePath()), stateBefore);
    }

    // A step that overflows the weights themselves (a learning rate no model survives) fails with
    // that reason, ahead and on the usual path alike.
    void aStepThatMakesTheWeightsNonFiniteFailsWithTheReason() {
        const QString spec = protocol::sha256Hex(QByteArray(testing::kSyntheticMlpSpec));
        wire::Hyperparameters h = adamHyperparameters(2);
        h.set_learning_rate(3e38);
        std::unique_ptr<JobRunner> r = runner(coordinator::JobConfig::fromWire(h, 0, spec));
        std::vector<protocol::WorkResult> last;
        QList<ledger::WorkUnit> units = doneStep(*r, 0, 1, 1, &last);
        std::optional<coordinator::StepWork> ahead = stepZeroAhead(*r, units, last[0]);
        QVERIFY(ahead.has_value());
        testing::expectError([&] { JobRunner::computeWeights(*ahead); }, {"made the weights non-finite"});
        accept(*r, units, std::move(last[0]));
        coordinator::StepWork work = r->prepareStep(units);
        testing::expectError([&] { JobRunner::computeStep(work); }, {"made the weights non-finite"});
    }

    // A step applied while a result of the next one is being written (GroupCommit's temporary) must
    // not delete that temporary: its rename would fail and the worker be told to send it again.
    void aNextStepsResultBeingWrittenSurvivesTheStep() {
        std::unique_ptr<JobRunner> r = runner(config());
        const QDir results(r->files().resultsDir());
        QVERIFY(results.mkpath(QStringLiteral(".")));
        for (const char* name : {"5.result.partial", "9.result", "9.result.partial"}) {
            QFile f(results.filePath(QString::fromLatin1(name)));
            QVERIFY(f.open(QIODevice::WriteOnly));
        }
        QStringList doomed = r->releaseResultsExcept({5});  // 5: a unit of the next step
        for (QString& path : doomed) path = QFileInfo(path).fileName();
        doomed.sort();
        QCOMPARE(doomed, QStringList({"9.result", "9.result.partial"}));
        // At start-up no write is under way: every temporary is a crash's leftover.
        r->removeResultsExcept({5, 9});
        QCOMPARE(results.entryList(QDir::Files), QStringList({"9.result"}));
    }

    void aJobWhoseResultsAreReplayedWaitsForItsStateFile() {
        coordinator::JobConfig verifiable = config();
        verifiable.kernelMode = KernelMode::Verifiable;  // its applied steps may be rewound
        std::unique_ptr<JobRunner> r = runner(verifiable);
        QVERIFY(!r->leasesAhead());
        coordinator::StepWork work = r->prepareStep(doneStepZero(*r));
        QVERIFY(!work.weightsAhead);
        bool handedOut = false;
        JobRunner::computeStep(work, [&](const QByteArray&) { handedOut = true; });
        QVERIFY(!handedOut);
        QCOMPARE(r->leasedStep(), qint64(0));
        QVERIFY(!r->takesResultsOf(1));
    }
};

QTEST_GUILESS_MAIN(LeaseAheadTest)
#include "tst_LeaseAhead.moc"
