// The emulated-compute mode of the benchmarks (RecordedCompute.h), against real coordinators over TLS
// on loopback: one real worker (CPU, one thread) trains a small job with --record; then, on a fresh
// coordinator that gives the same job the same id, three --replay workers train it again, joining
// and leaving while it runs (one from the start, two join at step 2, one stops gracefully at step 5,
// one vanishes without a word at step 8), with no arithmetic of their own: the final weights must
// equal the recorded run's bit for bit. A job that was never recorded is handed back by replaying
// workers as their own limit, not as the unit's fault: eight of them refusing the same unit (which
// fails a job when they say could_not_compute) leave the job running.
#include <QCryptographicHash>
#include <QDir>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <cstring>

#include "base/Error.h"
#include "coordinator/CoordinatorTestKit.h"
#include "worker/RecordedCompute.h"
#include "worker/Worker.h"

using namespace raven;
using raven::test::Deployment;
using raven::worker::Worker;
using raven::worker::WorkerOptions;

namespace {

using Weights = std::map<std::string, std::vector<float>>;

QByteArray weightsHash(const Weights& w) {
    QCryptographicHash hash(QCryptographicHash::Sha256);
    for (const auto& [name, values] : w) {
        hash.addData(QByteArray::fromStdString(name));
        hash.addData(QByteArrayView(reinterpret_cast<const char*>(values.data()),
                                    static_cast<qsizetype>(values.size() * sizeof(float))));
    }
    return hash.result().toHex();
}

}  // namespace

class TestRecordedCompute : public QObject {
    Q_OBJECT

    QTemporaryDir recordings_;
    std::unique_ptr<Deployment> d_;
    std::unique_ptr<test::SyncClient> requester_;
    wire::Hyperparameters h_;
    std::vector<std::unique_ptr<Worker>> workers_;
    std::set<const Worker*> stopped_;
    std::map<QString, std::set<QString>> refusedBy_;  // unit id -> workers that handed it back as refused
    QStringList refusalReasons_;
    int computeFailures_ = 0;
    int named_ = 0;

    void startDeployment() {
        workers_.clear();
        requester_.reset();
        d_ = std::make_unique<Deployment>();
        d_->options.shardsPerUnit = 1;
        d_->start();
        requester_ = d_->requester(1000 * ledger::kMicroCreditsPerCredit);
    }

    Worker& addWorker(const QString& recordDir, const QString& replayDir) {
        const QString name = QStringLiteral("w%1").arg(++named_);
        WorkerOptions o;
        o.coordinator = d_->coordinator->url();
        o.token = d_->coordinator->addContributor(name);
        o.knownHostsPath = d_->knownHosts();
        o.cacheDir = d_->workerDir(name) + "/cache";
        o.cacheBytes = 64 << 20;
        o.device = QStringLiteral("cpu");
        o.threads = 1;
        o.maxConcurrentLeases = 2;
        o.displayName = name;
        o.recordDir = recordDir;
        o.replayDir = replayDir;
        workers_.push_back(std::make_unique<Worker>(o));
        Worker* w = workers_.back().get();
        QObject::connect(w, &Worker::stopped, [this, w] { stopped_.insert(w); });
        QObject::connect(w, &Worker::unitRefused, [this, name](const QString& id, const QString& why) {
            refusedBy_[id].insert(name);
            refusalReasons_ << why;
        });
        QObject::connect(w, &Worker::computeFailed, [this](const QString&, const QString& why) {
            ++computeFailures_;
            qWarning("compute failed: %s", qPrintable(why));
        });
        w->start();
        return *w;
    }

    void stopAll() {
        for (auto& w : workers_) {
            if (!w) continue;  // vanished
            w->stop();
            QVERIFY(QTest::qWaitFor([&] { return stopped_.count(w.get()) == 1; }, 15000));
        }
        workers_.clear();
    }

    // Runs the job to its end, letting `onStep` act at each applied step; returns its final weights.
    Weights train(const std::string& job, const std::function<void(qint64)>& onStep) {
        const qint64 id = std::stoll(job);
        const QMetaObject::Connection c =
            QObject::connect(d_->coordinator.get(), &coordinator::Coordinator::jobStepped, d_->coordinator.get(),
                             [&, id](qint64 j, qint64 step, double) {
                                 if (j == id) onStep(step);
                             });
        const bool done = QTest::qWaitFor(
            [&] {
                const std::optional<ledger::Job> row = d_->coordinator->store().job(id);
                return row && ledger::isTerminal(row->state);
            },
            90000);
        QObject::disconnect(c);
        stopAll();
        if (!done) qFatal("job %lld did not end", static_cast<long long>(id));
        if (d_->coordinator->store().job(id)->state != ledger::JobState::Done)
            qFatal("job %lld did not finish", static_cast<long long>(id));
        return test::checkpointWeights(d_->downloadCheckpoint(*requester_, job));
    }

    qint64 unitsOf(const std::string& job) {
        const qint64 id = std::stoll(job);
        qint64 n = 0;
        for (qint64 v = 0; v < d_->coordinator->store().job(id)->modelVersion; ++v)
            n += d_->coordinator->store().workUnits(id, v).size();
        return n;
    }

private slots:
    void initTestCase() {
        QVERIFY(recordings_.isValid());
        // 11 shards an epoch, 3 a step: 4 steps an epoch, 12 in all, units of one shard.
        h_ = test::adamHyperparameters(3);
        h_.set_global_batch(96);
    }

    void replayEqualsTheRecordingBitForBit() {
        const QString dir = recordings_.filePath(QStringLiteral("mlp"));
        startDeployment();
        const std::string recordedJob = d_->submitJob(*requester_, h_);
        addWorker(dir, {});
        const Weights recorded = train(recordedJob, [](qint64) {});
        const qint64 units = unitsOf(recordedJob);
        QCOMPARE(QDir(dir).entryList({QStringLiteral("*.unit")}, QDir::Files).size(), units);
        QCOMPARE(computeFailures_, 0);

        // The same job on a fresh coordinator: the same id, the same units, replayed by a changing fleet.
        startDeployment();
        const std::string replayedJob = d_->submitJob(*requester_, h_);
        QCOMPARE(replayedJob, recordedJob);
        addWorker({}, dir);
        const Weights replayed = train(replayedJob, [&](qint64 step) {
            if (step == 2) {
                addWorker({}, dir);
                addWorker({}, dir);
            } else if (step == 5) {
                workers_[1]->stop();
            } else if (step == 8) {
                workers_[2].reset();
            }
        });
        QCOMPARE(unitsOf(replayedJob), units);
        QVERIFY2(refusedBy_.empty(), qPrintable("units refused: " + refusalReasons_.join("; ")));
        QCOMPARE(computeFailures_, 0);
        qInfo("weights: recorded %s, replayed %s", weightsHash(recorded).constData(),
              weightsHash(replayed).constData());
        QCOMPARE(weightsHash(replayed), weightsHash(recorded));
        QVERIFY(!recorded.empty());
    }

    void unrecordedUnitsAreHandedBackAsThisWorkersLimit() {
        // A second job on the replaying coordinator (job 2) was never recorded. One shard a step, so
        // one unit at a time, which every worker is given in turn.
        wire::Hyperparameters h = h_;
        h.set_global_batch(32);
        const std::string job = d_->submitJob(*requester_, h);
        const qint64 id = std::stoll(job);
        for (int i = 0; i < 8; ++i) addWorker({}, recordings_.filePath(QStringLiteral("mlp")));
        const auto refusedByAll = [&] {
            for (const auto& [unit, by] : refusedBy_)
                if (by.size() >= 8) return true;
            return false;
        };
        QVERIFY2(QTest::qWaitFor(refusedByAll, 40000),
                 qPrintable(
                     QStringLiteral("no unit was refused by all 8 workers; refusals: %1").arg(refusalReasons_.size())));
        QTest::qWait(500);  // the last hand-back's answer
        QCOMPARE(d_->coordinator->store().job(id)->state, ledger::JobState::Running);
        QVERIFY(refusalReasons_.first().contains(QStringLiteral("no recorded result for job ") +
                                                 QString::fromStdString(job)));
        QCOMPARE(computeFailures_, 0);
        stopAll();
    }

    void unusableFoldersAreRefusedWithWhatToDo() {
        using worker::RecordedCompute;
        const QString missing = recordings_.filePath(QStringLiteral("never-recorded"));
        try {
            RecordedCompute replay(RecordedCompute::Mode::Replay, missing);
            QFAIL("a replay of a folder that does not exist was accepted");
        } catch (const raven::Error& e) {
            QVERIFY2(QString::fromStdString(e.hint()).contains("--record"), e.what());
        }
        QDir().mkpath(missing);  // exists, but holds no record
        bool refused = false;
        try {
            RecordedCompute replay(RecordedCompute::Mode::Replay, missing);
        } catch (const raven::Error& e) {
            refused = QString::fromUtf8(e.what()).contains("holds no recorded units");
        }
        QVERIFY(refused);
    }

    void cleanupTestCase() {
        stopAll();
        requester_.reset();
        d_.reset();
    }
};

QTEST_GUILESS_MAIN(TestRecordedCompute)
#include "tst_RecordedCompute.moc"
