// The promise distributed training rests on: stepping the optimizer on the average of work units'
// summed gradients, units cut from the step plan, gives the same weights as `raven train --local`
// (Trainer with shuffleBlock = shard size) with the same seed, batch and optimizer; whatever the cut
// and whatever order the units finish in.
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <cmath>

#include "SyntheticDataset.h"
#include "WeightComparison.h"
#include "base/Error.h"
#include "data/Sharding.h"
#include "nn/Trainer.h"
#include "training/ShardGradient.h"
#include "training/StepPlan.h"

using namespace raven;
using namespace raven::training;

using testing::flatWeights;
using testing::maxRelativeDifference;

class TestEquivalence : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    data::Dataset dataset_;
    data::Manifest manifest_;

    // Runs the plan as a coordinator would, with units of `shardsPerUnit` shards computed in
    // `reversed` order, each on a fresh worker model loaded with the coordinator's weights.
    std::vector<float> distributed(const nn::OptimizerConfig& config, std::int64_t shardsPerUnit, bool reversed,
                                   int epochs) {
        data::ShardStore store(dir_.path());
        nn::Model coordinator(nn::ModelSpec::parse(testing::kSyntheticMlpSpec));
        auto optimizer = nn::makeOptimizer(config, coordinator.parameterNames());
        StepPlan plan(manifest_, {.globalBatch = 64, .epochs = epochs, .maxSteps = 0, .seed = 4});
        for (std::int64_t step = 0; step < plan.totalSteps(); ++step) {
            auto units = StepPlan::cut(plan.shardsOfStep(step), shardsPerUnit);
            std::vector<GradientSums> results(units.size());
            std::vector<size_t> order(units.size());
            for (size_t i = 0; i < order.size(); ++i) order[i] = reversed ? order.size() - 1 - i : i;
            for (size_t u : order) {
                nn::Model worker(nn::ModelSpec::parse(testing::kSyntheticMlpSpec));
                worker.loadStateDict(coordinator.stateDict());
                data::Samples samples(manifest_.featureShape, manifest_.labelShape);
                for (const data::ShardRef& shard : units[u]) {
                    const data::Samples part = data::loadShardSamples(manifest_, shard, store);
                    for (std::int64_t i = 0; i < part.count(); ++i) samples.append(part.features(i), part.labels(i));
                }
                results[u] = computeGradientSums(worker, samples, manifest_.normalization);
            }
            std::vector<const std::vector<float>*> parts;
            std::int64_t total = 0;
            for (const GradientSums& r : results) {
                parts.push_back(&r.gradient);
                total += r.samples;
            }
            RAVEN_CHECK(total == plan.samplesOfStep(step), "the units of a step do not cover its samples", "");
            optimizer->step(coordinator.parameterTensors(), averageGradients(coordinator, parts, total));
        }
        return flatWeights(coordinator);
    }

    std::vector<float> local(const nn::OptimizerConfig& config, int epochs) {
        nn::TrainOptions options;
        options.epochs = epochs;
        options.batchSize = 64;
        options.shuffleSeed = 4;
        options.optimizer = config;
        return flatWeights(*testing::trainSyntheticMlpLocally(dataset_, options));
    }

private slots:
    void initTestCase() {
        data::ShardStore store(dir_.path());
        dataset_ = testing::syntheticDataset(330, 40);  // a short last shard of 10 samples
        manifest_ = data::publishDataset(dataset_, store, 32);
    }

    void matchesLocalTraining_data() {
        QTest::addColumn<int>("kind");
        QTest::addColumn<int>("shardsPerUnit");
        QTest::addColumn<bool>("reversed");
        QTest::newRow("adam, one shard per unit") << int(nn::OptimizerKind::Adam) << 1 << false;
        QTest::newRow("adam, whole step in one unit") << int(nn::OptimizerKind::Adam) << 2 << false;
        QTest::newRow("sgd momentum, units finish in reverse") << int(nn::OptimizerKind::Sgd) << 1 << true;
    }

    void matchesLocalTraining() {
        QFETCH(int, kind);
        QFETCH(int, shardsPerUnit);
        QFETCH(bool, reversed);
        nn::OptimizerConfig config = nn::OptimizerConfig::defaults(nn::OptimizerKind(kind));
        config.lr = kind == int(nn::OptimizerKind::Sgd) ? 0.05 : 0.01;
        if (kind == int(nn::OptimizerKind::Sgd)) config.momentum = 0.9;
        const std::vector<float> a = local(config, 3);
        const std::vector<float> b = distributed(config, shardsPerUnit, reversed, 3);
        QCOMPARE(a.size(), b.size());
        const double diff = maxRelativeDifference(b, a);
        qInfo("max |distributed - local| / max |local| = %.3g after 3 epochs", diff);
        QVERIFY2(diff < 1e-5, qPrintable(QString::number(diff)));
        nn::Model init(nn::ModelSpec::parse(testing::kSyntheticMlpSpec));
        QVERIFY(maxRelativeDifference(flatWeights(init), a) > 1e-2);  // training moved the weights
    }

    void shuffleBlockMustDivideBatch() {
        nn::Model model(nn::ModelSpec::parse(testing::kSyntheticMlpSpec));
        nn::TrainOptions options;
        options.batchSize = 48;
        options.shuffleBlock = 32;
        QVERIFY_THROWS_EXCEPTION(Error, nn::Trainer(model, dataset_, options));
    }
};

QTEST_GUILESS_MAIN(TestEquivalence)
#include "tst_Equivalence.moc"
