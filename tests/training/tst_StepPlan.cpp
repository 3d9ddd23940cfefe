// StepPlan: every training shard once per epoch, in a seeded order that depends only on the
// manifest and the options; work units cut a step in order; bad options are refused clearly.
#include <QTemporaryDir>
#include <QtTest>

#include <set>

#include "SyntheticDataset.h"
#include "base/Error.h"
#include "data/Sharding.h"
#include "training/StepPlan.h"

using namespace raven;
using namespace raven::training;

class TestStepPlan : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    data::Manifest manifest_;

private slots:
    void initTestCase() {
        data::ShardStore store(dir_.path());
        // 330 samples in shards of 32: ten full shards and one of 10.
        manifest_ = data::publishDataset(testing::syntheticDataset(330, 40), store, 32);
        QCOMPARE(manifest_.train.shards.size(), size_t(11));
    }

    void everyShardOncePerEpoch() {
        StepPlan plan(manifest_, {.globalBatch = 96, .epochs = 3, .maxSteps = 0, .seed = 5});
        QCOMPARE(plan.shardsPerStep(), 3);
        QCOMPARE(plan.stepsPerEpoch(), 4);  // 3 + 3 + 3 + 2 shards
        QCOMPARE(plan.totalSteps(), 12);
        std::vector<std::vector<QString>> epochs(3);
        std::int64_t samples = 0;
        for (std::int64_t s = 0; s < plan.totalSteps(); ++s) {
            for (const data::ShardRef& shard : plan.shardsOfStep(s))
                epochs[size_t(plan.epochOf(s))].push_back(shard.hash);
            if (s < 4) samples += plan.samplesOfStep(s);
        }
        QCOMPARE(samples, 330);
        for (const auto& e : epochs) {
            QCOMPARE(e.size(), size_t(11));
            QCOMPARE(std::set<QString>(e.begin(), e.end()).size(), size_t(11));
        }
        QVERIFY(epochs[0] != epochs[1]);  // a new order each epoch
        QCOMPARE(plan.shardsOfStep(3).size(), size_t(2));
    }

    void deterministicAndSeeded() {
        StepPlan a(manifest_, {.globalBatch = 64, .epochs = 2, .maxSteps = 0, .seed = 9});
        StepPlan b(manifest_, {.globalBatch = 64, .epochs = 2, .maxSteps = 0, .seed = 9});
        StepPlan c(manifest_, {.globalBatch = 64, .epochs = 2, .maxSteps = 0, .seed = 10});
        bool differs = false;
        for (std::int64_t s = 0; s < a.totalSteps(); ++s) {
            QVERIFY(a.shardsOfStep(s) == b.shardsOfStep(s));
            differs = differs || a.shardsOfStep(s) != c.shardsOfStep(s);
        }
        QVERIFY(differs);
    }

    void maxStepsCaps() {
        StepPlan plan(manifest_, {.globalBatch = 32, .epochs = 5, .maxSteps = 7, .seed = 1});
        QCOMPARE(plan.totalSteps(), 7);
        QVERIFY_THROWS_EXCEPTION(Error, plan.shardsOfStep(7));
    }

    void cutKeepsOrder() {
        StepPlan plan(manifest_, {.globalBatch = 160, .epochs = 1, .maxSteps = 0, .seed = 1});
        const auto shards = plan.shardsOfStep(0);
        const auto units = StepPlan::cut(shards, 2);
        QCOMPARE(units.size(), size_t(3));
        QCOMPARE(units[2].size(), size_t(1));
        QCOMPARE(units[1][0], shards[2]);
        QVERIFY_THROWS_EXCEPTION(Error, StepPlan::cut(shards, 0));
    }

    void refusesBatchNotMultipleOfShard() {
        try {
            StepPlan plan(manifest_, {.globalBatch = 100, .epochs = 1, .maxSteps = 0, .seed = 1});
            QFAIL("a batch of 100 with 32-sample shards was accepted");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).contains("multiple of"), e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestStepPlan)
#include "tst_StepPlan.moc"
