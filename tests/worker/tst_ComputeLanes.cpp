// ComputeLanes: how many units a worker computes side by side and with how many threads each.
#include <QTest>

#include "worker/ComputeLanes.h"

using raven::worker::ComputeLanes;
using raven::worker::LanePlan;

class TestComputeLanes : public QObject {
    Q_OBJECT
private slots:
    void oneLaneTakesEveryThread() {
        const LanePlan one = ComputeLanes::plan(1, "cpu", 6, 16, 4);
        QCOMPARE(one.lanes, 1);
        QCOMPARE(one.threadsOfLane(0), 6);
        // 0 threads (every core) stays 0: the backend's own default.
        QCOMPARE(ComputeLanes::plan(1, "cpu", 0, 16, 4).threadsOfLane(0), 0);
    }

    void automaticIsOneLaneAsMeasured() {
        for (const char* device : {"cpu", "vulkan", "vulkan:1"}) {
            const LanePlan automatic = ComputeLanes::plan(0, device, 8, 16, 4);
            QCOMPARE(automatic.lanes, 1);
            QCOMPARE(automatic.threadsOfLane(0), 8);
        }
    }

    void lanesShareTheThreads() {
        const LanePlan two = ComputeLanes::plan(2, "cpu", 4, 16, 4);
        QCOMPARE(two.lanes, 2);
        QCOMPARE(two.threadsOfLane(0), 2);
        QCOMPARE(two.threadsOfLane(1), 2);
        // Every core (threads 0), 5 of them: the first lane takes the remainder.
        const LanePlan odd = ComputeLanes::plan(2, "cpu", 0, 5, 4);
        QCOMPARE(odd.lanes, 2);
        QCOMPARE(odd.threadsOfLane(0), 3);
        QCOMPARE(odd.threadsOfLane(1), 2);
        const LanePlan three = ComputeLanes::plan(3, "cpu", 8, 16, 4);
        QCOMPARE(three.threadsOfLane(0) + three.threadsOfLane(1) + three.threadsOfLane(2), 8);
    }

    void lanesAreCappedByThreadsAndHeldUnits() {
        // No lane without a thread of its own.
        const LanePlan byThreads = ComputeLanes::plan(4, "cpu", 2, 16, 8);
        QCOMPARE(byThreads.lanes, 2);
        QCOMPARE(byThreads.threadsOfLane(1), 1);
        // No lane without a unit to compute: at most the units the worker may hold.
        QCOMPARE(ComputeLanes::plan(3, "cpu", 8, 16, 2).lanes, 2);
        QCOMPARE(ComputeLanes::plan(3, "cpu", 8, 16, 1).lanes, 1);
        QCOMPARE(ComputeLanes::plan(2, "cpu", 1, 16, 4).lanes, 1);
    }

    void vulkanLanesKeepTheirThreads() {
        // Each Vulkan lane submits its own command buffers; the CPU threads are not the device's.
        const LanePlan gpu = ComputeLanes::plan(2, "vulkan", 4, 16, 4);
        QCOMPARE(gpu.lanes, 2);
        QCOMPARE(gpu.threadsOfLane(0), 4);
        QCOMPARE(gpu.threadsOfLane(1), 4);
    }
};

QTEST_GUILESS_MAIN(TestComputeLanes)
#include "tst_ComputeLanes.moc"
