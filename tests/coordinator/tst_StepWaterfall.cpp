// StepWaterfall: a step's account in metrics.jsonl. Units of the next step leased while this one is
// applied (JobRunner::leasesAhead()) count in the next step's row, their weights as served at once.
#include <QtTest>

#include "coordinator/StepWaterfall.h"

using namespace raven;
using coordinator::StepWaterfall;
using namespace std::chrono_literals;

namespace {

double figure(const wire::MetricsUpdate& u, const char* key) { return u.extra().at(key); }

}  // namespace

class StepWaterfallTest : public QObject {
    Q_OBJECT
private slots:
    void theNextStepsUnitsCountInTheNextStep() {
        StepWaterfall w;
        const StepWaterfall::Clock::time_point t0{};
        w.begin(t0 + 1ms);
        w.weightsSent(7, 1000, t0 + 3ms);
        w.accepted(7, {40.0, 1.0, 2.0, 500, 64}, t0 + 50ms);
        w.applyStarted(t0 + 52ms);
        // Step V + 1's weights and a result of it, before V is applied.
        w.weightsSentAhead(7, 1000);
        w.acceptedAhead(7, {30.0, 1.0, 2.0, 400, 32});
        wire::MetricsUpdate v;
        w.report(t0 + 101ms, &v);
        QCOMPARE(figure(v, "units"), 1.0);
        QCOMPARE(figure(v, "compute_ms"), 40.0);
        QCOMPARE(figure(v, "weights_out_ms"), 2.0);
        QCOMPARE(figure(v, "bytes_in_per_sample"), 500.0 / 64);
        QCOMPARE(figure(v, "wall_ms"), 100.0);

        w.begin(t0 + 101ms);
        w.accepted(7, {35.0, 1.0, 2.0, 600, 32}, t0 + 150ms);
        wire::MetricsUpdate next;
        w.report(t0 + 201ms, &next);
        QCOMPARE(figure(next, "units"), 2.0);
        QCOMPARE(figure(next, "compute_ms"), 65.0);
        QCOMPARE(figure(next, "weights_out_ms"), 0.0);  // they were there before the step began
        QCOMPARE(figure(next, "bytes_in_per_sample"), 1000.0 / 64);
        QCOMPARE(figure(next, "bytes_out_per_sample"), 1000.0 / 64);
        QCOMPARE(figure(next, "utilization"), 65.0 / 100.0);

        // Put aside once: the step after starts empty.
        w.begin(t0 + 201ms);
        w.accepted(7, {10.0, 1.0, 2.0, 100, 32}, t0 + 250ms);
        wire::MetricsUpdate after;
        w.report(t0 + 301ms, &after);
        QCOMPARE(figure(after, "units"), 1.0);
    }

    void aStepWaitsForItsSlowestWorker() {
        StepWaterfall w;
        const StepWaterfall::Clock::time_point t0{};
        w.begin(t0);
        // Worker 1 computes 90 ms, worker 2 60 ms and worker 3 30 ms; each has its weights at once.
        // The step is applied at 100 ms, its last result accepted at 95 ms.
        for (const ledger::ContributorId c : {1, 2, 3}) w.weightsSent(c, 1000, t0);
        w.accepted(1, {90.0, 1.0, 2.0, 500, 64}, t0 + 95ms);
        w.accepted(2, {60.0, 1.0, 2.0, 500, 64}, t0 + 70ms);
        w.accepted(3, {30.0, 1.0, 2.0, 500, 64}, t0 + 40ms);
        w.applyStarted(t0 + 95ms);
        wire::MetricsUpdate u;
        w.report(t0 + 100ms, &u);
        // Were nothing but compute to take time, the three would still use (90 + 60 + 30) / (3 x 90).
        QCOMPARE(figure(u, "compute_balance"), 180.0 / 270.0);
        QCOMPARE(figure(u, "utilization"), 180.0 / 300.0);
        // Idle: 100 - 3 (upload, ingest) - 5 (step) - compute = 2, 32, 62 ms; of it, waiting for
        // worker 1: none of its own, 30 of worker 2's 32 and 60 of worker 3's 62.
        QCOMPARE(figure(u, "idle_ms"), (2.0 + 32.0 + 62.0) / 3);
        QCOMPARE(figure(u, "slowest_wait_ms"), (0.0 + 30.0 + 60.0) / 3);
    }

    void aSlowestWaitNeverExceedsTheIdleTime() {
        StepWaterfall w;
        const StepWaterfall::Clock::time_point t0{};
        w.begin(t0);
        w.weightsSent(1, 1000, t0);
        w.weightsSent(2, 1000, t0 + 50ms);  // worker 2's weights went out late: its wait was for them
        w.accepted(1, {80.0, 0.0, 0.0, 500, 64}, t0 + 80ms);
        w.accepted(2, {40.0, 0.0, 0.0, 500, 64}, t0 + 90ms);
        w.applyStarted(t0 + 90ms);
        wire::MetricsUpdate u;
        w.report(t0 + 100ms, &u);
        // Worker 2: 100 - 50 (weights out) - 40 - 10 (step) = 0 idle, so no wait for worker 1 either.
        QCOMPARE(figure(u, "slowest_wait_ms"), (0.0 + 0.0) / 2);
        QCOMPARE(figure(u, "compute_balance"), 120.0 / 160.0);
    }
};

QTEST_GUILESS_MAIN(StepWaterfallTest)
#include "tst_StepWaterfall.moc"
