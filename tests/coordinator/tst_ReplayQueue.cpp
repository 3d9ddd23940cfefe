// The rationing of the coordinator's replays (ReplayQueue) and the decoded shards they keep
// (ShardSampleCache): one replay in flight per contributor, a bounded number waiting, the rest
// refused; contributors take turns for the slots; a unit waiting or replayed is held; the cache
// decodes a shard once, evicts the least recently used over its bound and keeps nothing larger.
#include <QTemporaryDir>
#include <QtTest>

#include <vector>

#include "base/Error.h"
#include "coordinator/ReplayQueue.h"
#include "coordinator/ShardSampleCache.h"
#include "data/Sharding.h"
#include "training/SyntheticDataset.h"

using namespace raven;
using namespace raven::coordinator;

namespace {

PendingReplay pending(ledger::ContributorId who, ledger::WorkUnitId unit) {
    PendingReplay p;
    p.checked.contributor = who;
    p.checked.unit = unit;
    p.unit.id = unit;
    return p;
}

}  // namespace

class ReplayQueueTest : public QObject {
    Q_OBJECT
private slots:
    void oneInFlightPerContributorAndABoundedWait() {
        std::vector<std::pair<ledger::ContributorId, ledger::WorkUnitId>> started;
        ReplayQueue queue({2, 1}, [&](PendingReplay p) { started.emplace_back(p.checked.contributor, p.unit.id); });
        QCOMPARE(queue.add(pending(7, 1)), ReplayQueue::Admission::Started);
        QCOMPARE(queue.add(pending(7, 2)), ReplayQueue::Admission::Parked);   // its first still runs
        QCOMPARE(queue.add(pending(7, 3)), ReplayQueue::Admission::Refused);  // the bound: one waiting
        QVERIFY(queue.holds(1));
        QVERIFY(queue.holds(2));
        QVERIFY(!queue.holds(3));  // refused: not held, a second result for it is judged at once
        // Another contributor gets the free slot at once: the flood takes one slot, not all.
        QCOMPARE(queue.add(pending(8, 10)), ReplayQueue::Admission::Started);
        QCOMPARE(queue.running(), 2);
        QCOMPARE(queue.waiting(7), 1u);
        queue.finished(7, 1);
        QVERIFY(!queue.holds(1));
        QCOMPARE(started.back(), std::make_pair(ledger::ContributorId{7}, ledger::WorkUnitId{2}));
        QCOMPARE(queue.waiting(), 0u);
        QCOMPARE(queue.add(pending(7, 3)), ReplayQueue::Admission::Parked);  // room again
    }

    void waitingContributorsTakeTurns() {
        std::vector<ledger::ContributorId> order;
        ReplayQueue queue({1, 3}, [&](PendingReplay p) { order.push_back(p.checked.contributor); });
        QCOMPARE(queue.add(pending(1, 100)), ReplayQueue::Admission::Started);
        for (ledger::WorkUnitId u = 101; u <= 103; ++u) QCOMPARE(queue.add(pending(1, u)), ReplayQueue::Admission::Parked);
        QCOMPARE(queue.add(pending(2, 200)), ReplayQueue::Admission::Parked);  // no slot free
        QCOMPARE(queue.add(pending(3, 300)), ReplayQueue::Admission::Parked);
        ledger::WorkUnitId running = 100;
        ledger::ContributorId runningFor = 1;
        for (int i = 0; i < 5; ++i) {
            queue.finished(runningFor, running);
            runningFor = order.back();
            running = 0;  // the unit does not matter for the order
        }
        // After the flooder's first: the others each get a turn before its second and third.
        const std::vector<ledger::ContributorId> expected = {1, 1, 2, 3, 1, 1};
        QCOMPARE(order, expected);
    }

    void aStartThatFinishesAtOnceStartsTheNext() {
        ReplayQueue* self = nullptr;
        std::vector<ledger::WorkUnitId> started;
        ReplayQueue queue({1, 2}, [&](PendingReplay p) {
            started.push_back(p.unit.id);
            if (p.unit.id != 1) self->finished(p.checked.contributor, p.unit.id);  // dropped, e.g. quarantined
        });
        self = &queue;
        QCOMPARE(queue.add(pending(5, 1)), ReplayQueue::Admission::Started);
        QCOMPARE(queue.add(pending(5, 2)), ReplayQueue::Admission::Parked);
        QCOMPARE(queue.add(pending(5, 3)), ReplayQueue::Admission::Parked);
        queue.finished(5, 1);
        QCOMPARE(started, (std::vector<ledger::WorkUnitId>{1, 2, 3}));
        QCOMPARE(queue.running(), 0);
        QVERIFY(!queue.holds(2) && !queue.holds(3));
    }

    void badLimitsAreRefused() {
        QVERIFY_THROWS_EXCEPTION(raven::Error, ReplayQueue({0, 1}, [](PendingReplay) {}));
        QVERIFY_THROWS_EXCEPTION(raven::Error, ReplayQueue({1, -1}, [](PendingReplay) {}));
    }

    void theShardCacheDecodesOnceAndStaysBounded() {
        QTemporaryDir dir;
        data::ShardStore store(dir.filePath("shards"));
        const data::Manifest manifest = data::publishDataset(testing::syntheticDataset(96, 10), store, 32);
        QCOMPARE(manifest.train.shards.size(), 3);
        const data::ShardRef& a = manifest.train.shards[0];
        const std::int64_t shardBytes = 32 * (6 * 4 + 4);  // 32 samples of 6 floats and one label
        ShardSampleCache cache(store, 2 * shardBytes);
        const auto first = cache.samples(manifest, a);
        const auto again = cache.samples(manifest, a);
        QCOMPARE(first.get(), again.get());  // decoded once
        QCOMPARE(cache.misses(), 1);
        QCOMPARE(cache.hits(), 1);
        // The same samples as a read from disk.
        const data::Samples fromDisk = data::loadShardSamples(manifest, a, store);
        QVERIFY(fromDisk.allFeatures() == first->allFeatures());
        QVERIFY(fromDisk.allLabels() == first->allLabels());
        (void)cache.samples(manifest, manifest.train.shards[1]);
        (void)cache.samples(manifest, a);  // a is now the most recent
        (void)cache.samples(manifest, manifest.train.shards[2]);  // evicts shard 1, not a
        QCOMPARE(cache.bytes(), 2 * shardBytes);
        (void)cache.samples(manifest, a);
        QCOMPARE(cache.misses(), 3);
        (void)cache.samples(manifest, manifest.train.shards[1]);
        QCOMPARE(cache.misses(), 4);
        ShardSampleCache tiny(store, shardBytes - 1);  // nothing fits: decoded, not kept
        (void)tiny.samples(manifest, a);
        QCOMPARE(tiny.bytes(), 0);
    }
};

QTEST_GUILESS_MAIN(ReplayQueueTest)
#include "tst_ReplayQueue.moc"
