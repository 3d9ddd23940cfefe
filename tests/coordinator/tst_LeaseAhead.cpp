// Issue 17 item 3: a synchronous job's step V + 1 is leased the moment its weights exist, while V's
// state file is still being written (JobRunner::leasesAhead()). A JobRunner on real files: its step's
// weights are handed out before the state file holds V + 1, are the bits the step then keeps, and make
// V + 1's units leasable and their results taken; a job whose results can be rewound does not go ahead.
#include <QtTest>

#include "CoordinatorTestKit.h"
#include "checkpoint/Checkpoint.h"
#include "coordinator/JobRunner.h"

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
    static QList<ledger::WorkUnit> doneStepZero(JobRunner& r) {
        QList<ledger::WorkUnit> units;
        ledger::WorkUnitId id = 1;
        for (const ledger::NewWorkUnit& made : r.unitsOfStep(0, 1)) {
            ledger::WorkUnit u;
            u.id = id++;
            u.job = r.id();
            u.modelVersion = 0;
            u.shardHashes = made.shardHashes;
            u.state = ledger::WorkUnitState::Done;
            units << u;
            protocol::WorkResult result;
            result.gradient.assign(static_cast<std::size_t>(r.parameterCount()), 0.25f * static_cast<float>(u.id));
            result.sampleCount = static_cast<std::uint64_t>(r.samplesOf(u.shardHashes));
            result.loss = 1.0;
            r.keepResult(u.id, 7, std::move(result));
        }
        return units;
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
