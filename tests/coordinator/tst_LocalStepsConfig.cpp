// Local-steps (DiLoCo) settings and a lane's arithmetic on their own: JobConfig takes a job's
// LocalStepsPlan with DiLoCo's defaults and refuses what cannot run with an error naming the field;
// the round, lane and inner-step sizes follow from it; the outer optimizer is Nesterov SGD; and one
// lane's pseudo-gradient is what AdamW's closed form says it is.
#include <QtTest>

#include <cmath>

#include "base/Error.h"
#include "coordinator/JobConfig.h"
#include "coordinator/LocalStepsConfig.h"
#include "data/Sharding.h"
#include "training/LocalSteps.h"
#include "training/SyntheticDataset.h"

using namespace raven;
using namespace raven::coordinator;

namespace {

wire::Hyperparameters localSteps(std::uint32_t lanes, std::uint32_t inner, std::uint32_t batch) {
    wire::Hyperparameters h;
    h.set_optimizer("adamw");
    h.set_learning_rate(0.001);
    h.mutable_local_steps()->set_lanes(lanes);
    h.mutable_local_steps()->set_inner_steps(inner);
    h.mutable_local_steps()->set_inner_batch(batch);
    return h;
}

// The error fromWire gives for `h`, or "" when it takes it.
std::string refusal(const wire::Hyperparameters& h) {
    try {
        (void)JobConfig::fromWire(h, 0, QStringLiteral("spec"));
    } catch (const ::raven::Error& e) {
        return e.message();
    }
    return {};
}

}  // namespace

class TestLocalStepsConfig : public QObject {
    Q_OBJECT

private slots:
    void defaultsAreDiLoCos() {
        const JobConfig c = JobConfig::fromWire(localSteps(4, 8, 64), 0, QStringLiteral("spec"));
        QVERIFY(c.localSteps);
        QCOMPARE(c.localSteps->lanes, 4);
        QCOMPARE(c.localSteps->innerSteps, 8);
        QCOMPARE(c.localSteps->innerBatch, 64);
        QCOMPARE(c.plan.globalBatch, 4 * 8 * 64);  // a round's samples
        QVERIFY(c.optimizer.kind == nn::OptimizerKind::AdamW);  // the inner optimizer
        const nn::OptimizerConfig outer = c.stepOptimizer();
        QVERIFY(outer.kind == nn::OptimizerKind::Sgd);
        QCOMPARE(outer.lr, 0.7);
        QCOMPARE(outer.momentum, 0.9);
        QVERIFY(outer.nesterov);
        // Kept with the job: a restarted coordinator runs the same rounds.
        const JobConfig again = JobConfig::fromJson(c.toJson());
        QVERIFY(again.localSteps);
        QCOMPARE(again.plan.globalBatch, c.plan.globalBatch);
        QCOMPARE(again.stepOptimizer().lr, 0.7);
        // A plain job keeps its own optimizer.
        wire::Hyperparameters plain = localSteps(1, 1, 32);
        plain.clear_local_steps();
        plain.set_global_batch(64);
        const JobConfig p = JobConfig::fromWire(plain, 0, QStringLiteral("spec"));
        QVERIFY(!p.localSteps);
        QVERIFY(p.stepOptimizer().kind == nn::OptimizerKind::AdamW);
    }

    // d = 1: round t's lanes start from version t - 1, rounds 0 and 1 both from version 0; kept
    // with the job. d = 0 (the default) starts every round from its own version.
    void stalenessNamesTheWeightsOfARound() {
        wire::Hyperparameters h = localSteps(2, 4, 32);
        const JobConfig fresh = JobConfig::fromWire(h, 0, QStringLiteral("s"));
        QCOMPARE(fresh.localSteps->staleness, 0);
        for (std::int64_t round : {0, 1, 5}) QCOMPARE(fresh.localSteps->weightsVersionOfRound(round), round);
        h.mutable_local_steps()->set_staleness(1);
        const JobConfig stale = JobConfig::fromJson(JobConfig::fromWire(h, 0, QStringLiteral("s")).toJson());
        QCOMPARE(stale.localSteps->staleness, 1);
        QCOMPARE(stale.localSteps->weightsVersionOfRound(0), 0);
        QCOMPARE(stale.localSteps->weightsVersionOfRound(1), 0);
        QCOMPARE(stale.localSteps->weightsVersionOfRound(2), 1);
        QCOMPARE(stale.localSteps->weightsVersionOfRound(7), 6);
    }

    void outerSettings() {
        wire::Hyperparameters h = localSteps(2, 4, 32);
        h.mutable_local_steps()->set_outer_learning_rate(0.5);
        h.mutable_local_steps()->set_outer_momentum(-1);  // none
        const nn::OptimizerConfig outer = JobConfig::fromWire(h, 0, QStringLiteral("s")).stepOptimizer();
        QCOMPARE(outer.lr, 0.5);
        QCOMPARE(outer.momentum, 0.0);
        QVERIFY(!outer.nesterov);
        h.mutable_local_steps()->set_outer_momentum(0.8);
        QCOMPARE(JobConfig::fromWire(h, 0, QStringLiteral("s")).stepOptimizer().momentum, 0.8);
    }

    void refusesWhatCannotRun_data() {
        QTest::addColumn<int>("which");
        QTest::addColumn<QString>("names");
        QTest::newRow("no lanes") << 0 << "local_steps.lanes";
        QTest::newRow("no inner steps") << 1 << "local_steps.inner_steps";
        QTest::newRow("no inner batch") << 2 << "local_steps.inner_batch";
        QTest::newRow("sgd inside") << 3 << "adam or adamw inner optimizer";
        QTest::newRow("verifiable") << 4 << "verifiable kernels";
        QTest::newRow("global batch") << 5 << "global_batch is 100";
        QTest::newRow("momentum 1") << 6 << "local_steps.outer_momentum";
        QTest::newRow("negative rate") << 7 << "local_steps.outer_learning_rate";
        QTest::newRow("absurd lanes") << 8 << "local_steps.lanes";
        QTest::newRow("staleness 2") << 9 << "local_steps.staleness is 2";
    }
    void refusesWhatCannotRun() {
        QFETCH(int, which);
        QFETCH(QString, names);
        wire::Hyperparameters h = localSteps(2, 4, 32);
        wire::LocalStepsPlan& p = *h.mutable_local_steps();
        switch (which) {
            case 0: p.set_lanes(0); break;
            case 1: p.set_inner_steps(0); break;
            case 2: p.set_inner_batch(0); break;
            case 3: h.set_optimizer("sgd"); break;
            case 4: h.set_kernel_mode(wire::KERNEL_MODE_VERIFIABLE); break;
            case 5: h.set_global_batch(100); break;
            case 6: p.set_outer_momentum(1.0); break;
            case 7: p.set_outer_learning_rate(-0.1); break;
            case 8: p.set_lanes(1'000'000); break;
            case 9: p.set_staleness(2); break;
        }
        const std::string why = refusal(h);
        QVERIFY2(QString::fromStdString(why).contains(names), why.c_str());
        // The round's own global batch is fine.
        wire::Hyperparameters ok = localSteps(2, 4, 32);
        ok.set_global_batch(2 * 4 * 32);
        QCOMPARE(refusal(ok), std::string());
    }

    void lanesOfADataset() {
        const data::Dataset dataset = testing::syntheticDataset(330, 40);
        QTemporaryDir dir;
        data::ShardStore store(dir.filePath("shards"));
        const data::Manifest manifest = data::publishDataset(dataset, store, 32);
        LocalStepsConfig c;
        c.lanes = 3;
        c.innerSteps = 2;
        c.innerBatch = 64;
        QCOMPARE(shardsPerInnerStep(c, manifest), 2);
        QCOMPARE(laneShards(c, manifest), 4);
        const wire::LocalStepsUnit unit = laneUnit(c, nn::OptimizerConfig::defaults(nn::OptimizerKind::AdamW), 0.25,
                                                   manifest);
        QCOMPARE(unit.shards_per_inner_step(), 2u);
        QCOMPARE(unit.optimizer(), std::string("adamw"));
        QCOMPARE(unit.learning_rate(), 0.25);
        QCOMPARE(unit.weight_decay(), 0.01);
        c.innerBatch = 48;
        QVERIFY_THROWS_EXCEPTION(::raven::Error, shardsPerInnerStep(c, manifest));
    }

    // One inner Adam step from fresh state moves each parameter by lr * g / (|g| + eps) (bias
    // correction makes m^ = g and v^ = g^2): the lane's pseudo-gradient is that, g being the mean
    // gradient ShardGradient computes. With two lanes of the same weights the bits repeat (no state
    // is carried from one lane to the next).
    void oneInnerStepIsAdamsClosedForm() {
        const data::Dataset dataset = testing::syntheticDataset(64, 0);
        const nn::ModelSpec spec = nn::ModelSpec::parse(testing::kSyntheticMlpSpec);
        nn::Model model(spec);
        const training::GradientSums g = training::computeGradientSums(model, dataset.train, dataset.normalization);
        nn::OptimizerConfig adam = nn::OptimizerConfig::defaults(nn::OptimizerKind::Adam);
        adam.lr = 0.01;
        const training::GradientSums lane =
            training::runLocalSteps(model, {dataset.train}, dataset.normalization, adam);
        QCOMPARE(lane.samples, 64);
        QCOMPARE(lane.lossSum, g.lossSum);
        QCOMPARE(lane.correct, g.correct);
        QCOMPARE(lane.gradient.size(), g.gradient.size());
        double worst = 0.0;
        for (std::size_t i = 0; i < g.gradient.size(); ++i) {
            const double mean = static_cast<double>(g.gradient[i]) / 64.0;
            const double expected = adam.lr * mean / (std::fabs(mean) + adam.eps);
            worst = std::max(worst, std::fabs(lane.gradient[i] - expected));
        }
        QVERIFY2(worst < 1e-6, qPrintable(QString::number(worst)));

        nn::Model again(spec);
        const training::GradientSums second =
            training::runLocalSteps(again, {dataset.train}, dataset.normalization, adam);
        QVERIFY(std::memcmp(second.gradient.data(), lane.gradient.data(), lane.gradient.size() * sizeof(float)) == 0);
        QVERIFY_THROWS_EXCEPTION(::raven::Error,
                                 training::runLocalSteps(again, {}, dataset.normalization, adam));
    }
};

QTEST_GUILESS_MAIN(TestLocalStepsConfig)
#include "tst_LocalStepsConfig.moc"
