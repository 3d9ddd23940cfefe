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
};

QTEST_GUILESS_MAIN(StepWaterfallTest)
#include "tst_StepWaterfall.moc"
