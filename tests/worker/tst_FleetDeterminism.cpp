// A job's result bits are a function of the job alone: the same job, trained over real TLS on
// loopback by real workers (worker::Worker, CPU, one thread), ends with the same weights, bit for
// bit, whether 1, 3 or 8 workers compute it, and when workers join and leave while it runs (one
// stops gracefully, one vanishes without a word and its leases run out). The coordinator sizes the
// units itself here (no fixed shards-per-unit), with nominal figures that give two units a step, so
// the test fails if the cut follows the fleet again (it did: about two units per connected worker).
// The same with the weights down as int8 deltas (the workers compute on the published weights).
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTest>

#include <cstring>

#include "coordinator/CoordinatorTestKit.h"
#include "worker/Worker.h"

using namespace raven;
using raven::test::Deployment;
using raven::worker::Worker;
using raven::worker::WorkerOptions;

namespace {

using Weights = std::map<std::string, std::vector<float>>;

bool sameBits(const Weights& a, const Weights& b, QString* where) {
    if (a.size() != b.size()) {
        *where = QStringLiteral("different tensors");
        return false;
    }
    for (const auto& [name, values] : a) {
        const auto it = b.find(name);
        if (it == b.end() || it->second.size() != values.size() ||
            std::memcmp(values.data(), it->second.data(), values.size() * sizeof(float)) != 0) {
            *where = QString::fromStdString(name);
            return false;
        }
    }
    return true;
}

}  // namespace

class TestFleetDeterminism : public QObject {
    Q_OBJECT

    std::unique_ptr<Deployment> d_;
    std::unique_ptr<test::SyncClient> requester_;
    wire::Hyperparameters h_;
    std::vector<std::unique_ptr<Worker>> workers_;
    std::map<QString, int> accepted_;  // results accepted, by worker name
    std::set<const Worker*> stopped_;
    int named_ = 0;
    std::vector<qint64> jobs_;  // trained so far

    Worker& addWorker() {
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
        workers_.push_back(std::make_unique<Worker>(o));
        QObject::connect(workers_.back().get(), &Worker::unitFinished, [this, name](const QString&, int status) {
            if (status == wire::RESULT_STATUS_ACCEPTED) ++accepted_[name];
        });
        const Worker* w = workers_.back().get();
        QObject::connect(workers_.back().get(), &Worker::stopped, [this, w] { stopped_.insert(w); });
        workers_.back()->start();
        return *workers_.back();
    }

    void stopAll() {
        for (auto& w : workers_) {
            if (!w) continue;  // vanished
            w->stop();
            QVERIFY(QTest::qWaitFor([&] { return stopped_.count(w.get()) == 1; }, 15000));
        }
        workers_.clear();
    }

    // Submits the job, lets `onStep` act at each applied step, and returns the final weights.
    Weights train(const std::function<void(qint64 step)>& onStep) {
        const std::string job = d_->submitJob(*requester_, h_);
        const qint64 id = std::stoll(job);
        jobs_.push_back(id);
        const QMetaObject::Connection c = QObject::connect(
            d_->coordinator.get(), &coordinator::Coordinator::jobStepped, d_->coordinator.get(),
            [&, id](qint64 j, qint64 step, double) {
                if (j == id) onStep(step);
            });
        const bool done = QTest::qWaitFor(
            [&] {
                const std::optional<ledger::Job> row = d_->coordinator->store().job(id);
                return row && ledger::isTerminal(row->state);
            },
            120000);
        QObject::disconnect(c);
        stopAll();
        if (!done) qFatal("job %lld did not end", static_cast<long long>(id));
        const std::optional<ledger::Job> row = d_->coordinator->store().job(id);
        if (row->state != ledger::JobState::Done) qFatal("job %lld did not finish", static_cast<long long>(id));
        // Every step was cut into the same units, whatever the fleet.
        for (qint64 v = 0; v < row->modelVersion; ++v) {
            const QList<ledger::WorkUnit> units = d_->coordinator->store().workUnits(id, v);
            if (units.size() != (v % 4 == 3 ? 1 : 2))
                qFatal("job %lld step %lld has %lld units", static_cast<long long>(id), static_cast<long long>(v),
                       static_cast<long long>(units.size()));
        }
        return test::checkpointWeights(d_->downloadCheckpoint(*requester_, job));
    }

    Weights trainWith(int workers) {
        for (int i = 0; i < workers; ++i) addWorker();
        return train([](qint64) {});
    }

private slots:
    void initTestCase() {
        d_ = std::make_unique<Deployment>();
        d_->options.shardsPerUnit = 0;  // the coordinator sizes the units
        // 11 shards an epoch, 3 a step (the last of an epoch 2): 4 steps an epoch, 40 in all, each
        // cut into units of 2 shards and 1 (the last step of an epoch: one unit of 2).
        h_ = test::adamHyperparameters(10);
        h_.set_global_batch(96);
        // The nominal worker speed at which the sizing gives units of two shards for this model.
        const nn::Architecture arch(nn::ModelSpec::parse(testing::kSyntheticMlpSpec));
        const training::StepPlan plan(d_->manifest, {96, 10, 0, 4});
        double gflops = 1e-9;
        coordinator::UnitSizing sizing;
        // The round trip the coordinator measures to the workers connected when a job is created stays
        // out of it (UnitSizing::forRoundTrips: on loopback it would not count anyway, unless a busy
        // machine answered a ping late): this test's cut is two shards exactly, whatever happens.
        sizing.fromFleet = false;
        for (; gflops < 1e6; gflops *= 1.25) {
            sizing.workerGflops = gflops;
            if (sizing.shardsPerUnit(arch, plan, 4.0) >= 2) break;
        }
        QCOMPARE(sizing.shardsPerUnit(arch, plan, 4.0), std::int64_t(2));
        d_->options.unitSizing = sizing;
        d_->options.unitDeadlineMs = 4000;
        d_->start();
        requester_ = d_->requester(1000 * ledger::kMicroCreditsPerCredit);
    }

    void sameBitsWhateverTheFleet() {
        const Weights one = trainWith(1);
        const Weights three = trainWith(3);
        const Weights eight = trainWith(8);
        QString where;
        QVERIFY2(sameBits(one, three, &where), qPrintable("1 vs 3 workers differ in " + where));
        QVERIFY2(sameBits(one, eight, &where), qPrintable("1 vs 8 workers differ in " + where));

        // One worker starts; two join at step 3 and two at step 12; at step 24 one of the first
        // joiners stops (handing back what it holds) and one of the last vanishes (its object and
        // connection gone without a word: the coordinator hands its leases back when it notices).
        accepted_.clear();
        addWorker();
        const std::size_t firstJoiner = workers_.size();
        const Weights churn = train([&](qint64 step) {
            if (step == 3 || step == 12) {
                addWorker();
                addWorker();
            } else if (step == 24) {
                workers_[firstJoiner]->stop();
                workers_.back().reset();
            }
        });
        QVERIFY2(sameBits(one, churn, &where), qPrintable("1 worker vs joining and leaving differ in " + where));
        int byJoiners = 0;
        for (const auto& [name, n] : accepted_) byJoiners += n;
        qInfo("results accepted during the churn job, by worker: %s",
              qPrintable([&] {
                  QStringList parts;
                  for (const auto& [name, n] : accepted_) parts << QStringLiteral("%1: %2").arg(name).arg(n);
                  return parts.join(QStringLiteral(", "));
              }()));
        QVERIFY2(accepted_.size() >= 3, "the joiners computed nothing: the job ended before they came");
    }

    // Every applied step's line in metrics.jsonl carries the coordinator's account of the step
    // (StepWaterfall.h): the waterfall, utilization, CPU per unit and bytes per sample.
    void metricsCarryTheWaterfall() {
        QVERIFY(!jobs_.empty());
        QFile file(QDir(d_->options.dataDir).filePath(QStringLiteral("jobs/%1/metrics.jsonl").arg(jobs_.front())));
        QVERIFY(file.open(QIODevice::ReadOnly));
        int lines = 0;
        while (!file.atEnd()) {
            const QJsonObject line = QJsonDocument::fromJson(file.readLine()).object();
            const QJsonObject extra = line.value("extra").toObject();
            ++lines;
            for (const char* key : {"wall_ms", "workers", "units", "utilization", "weights_out_ms", "compute_ms",
                                    "upload_ms", "ingest_ms", "step_ms", "idle_ms", "compute_samples_per_s",
                                    "coordinator_cpu_ms_per_unit", "bytes_in_per_sample", "bytes_out_per_sample"}) {
                QVERIFY2(extra.contains(key), key);
                QVERIFY2(extra.value(key).toDouble() >= 0.0, key);
            }
            const int step = line.value("step").toString().toInt();
            QCOMPARE(extra.value("workers").toDouble(), 1.0);  // the first job had one worker
            QVERIFY2(extra.value("units").toDouble() == (step % 4 == 0 ? 1.0 : 2.0),  // step = version after it
                     qPrintable(QStringLiteral("step %1: %2").arg(step).arg(QString::fromUtf8(QJsonDocument(line).toJson(QJsonDocument::Compact)))));
            QVERIFY(extra.value("wall_ms").toDouble() > 0.0);
            QVERIFY(extra.value("utilization").toDouble() <= 1.0);
            // Results of 163 fp32 values for 32..96 samples; weights out of at least that.
            QVERIFY(extra.value("bytes_in_per_sample").toDouble() > 0.0);
            QVERIFY(extra.value("bytes_out_per_sample").toDouble() > 0.0);
        }
        QCOMPARE(lines, 40);
    }

    // Weights down as int8 deltas (docs/training.md, "8-bit weights down"): the workers compute on the
    // published lineage P, and the job's bits are still its own with 1 and 3 workers (4 steps).
    void int8WeightsDownWhateverTheFleet() {
        h_.set_max_steps(4);
        h_.set_weights_down_encoding(wire::GRADIENT_ENCODING_INT8_BLOCK);
        const Weights one = trainWith(1);
        const Weights three = trainWith(3);
        QString where;
        QVERIFY2(sameBits(one, three, &where), qPrintable("int8 down: 1 vs 3 workers differ in " + where));
        // The job published its last version (docs/coordinator.md, crash safety).
        QVERIFY(QFile::exists(
            QDir(d_->options.dataDir).filePath(QStringLiteral("jobs/%1/published-4.safetensors").arg(jobs_.back()))));
    }

    void cleanupTestCase() {
        stopAll();
        requester_.reset();
        d_.reset();
    }
};

QTEST_GUILESS_MAIN(TestFleetDeterminism)
#include "tst_FleetDeterminism.moc"
