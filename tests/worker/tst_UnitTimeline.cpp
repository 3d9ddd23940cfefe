// UnitTimeline: the worker's own account of where a unit's wall time went.
#include <QTest>

#include "worker/UnitTimeline.h"

using namespace raven::worker;
using Stage = UnitTimeline::Stage;
using std::chrono::milliseconds;

class TestUnitTimeline : public QObject {
    Q_OBJECT

private slots:
    void nothingAnsweredSaysNothing() {
        UnitTimeline timeline;
        timeline.stamp(1, Stage::Granted);
        timeline.stamp(1, Stage::ComputeStarted);
        QVERIFY(timeline.summary().empty());
    }

    void mediansOfEachStretchAndTheComputeThreadsGaps() {
        UnitTimeline timeline;
        const auto t0 = UnitTimeline::Clock::now();
        const auto at = [t0](int ms) { return t0 + milliseconds(ms); };
        // Unit 1: granted at 0, ready at 4, computes 10..30, encoded at 33, sent at 34, answered at 50.
        // Unit 2: granted at 2, ready at 5 (on hand when unit 1 ends), computes 31..51: a 1 ms gap.
        // Unit 3: granted at 80 (after unit 2 ended at 51), ready at 82, computes 82..102: a 31 ms gap
        // spent waiting for its inputs.
        const int stamps[3][7] = {{0, 4, 10, 30, 33, 34, 50}, {2, 5, 31, 51, 55, 56, 70}, {80, 82, 82, 102, 105, 106, 120}};
        const Stage order[] = {Stage::Granted, Stage::Ready,  Stage::ComputeStarted, Stage::ComputeEnded,
                               Stage::Encoded, Stage::Sent, Stage::Answered};
        // Stamped in the order events happen across units.
        std::vector<std::tuple<int, std::uint64_t, Stage>> events;
        for (std::uint64_t unit = 0; unit < 3; ++unit)
            for (int i = 0; i < 7; ++i) events.emplace_back(stamps[unit][i], unit + 1, order[i]);
        std::stable_sort(events.begin(), events.end(),
                         [](const auto& a, const auto& b) { return std::get<0>(a) < std::get<0>(b); });
        for (const auto& [ms, unit, stage] : events) timeline.stamp(unit, stage, at(ms));
        const QString text = QString::fromStdString(timeline.summary());
        QVERIFY2(text.contains("grant->ready 3.0"), qPrintable(text));   // 4, 3, 2
        QVERIFY2(text.contains("compute 20.0"), qPrintable(text));
        QVERIFY2(text.contains("encode 3.0"), qPrintable(text));        // 3, 4, 3
        QVERIFY2(text.contains("sent->answered 14.0"), qPrintable(text));  // 16, 14, 14
        // Busy 60 ms of the 92 ms from the first start (10) to the last end (102).
        QVERIFY2(text.contains("busy 65%"), qPrintable(text));
        QVERIFY2(text.contains("1 waiting for inputs, median 31.0 ms"), qPrintable(text));
        QVERIFY2(text.contains("1 with inputs on hand, median 1.0 ms"), qPrintable(text));
    }

    void aForgottenUnitLeavesNoStretch() {
        UnitTimeline timeline;
        const auto t0 = UnitTimeline::Clock::now();
        timeline.stamp(7, Stage::Granted, t0);
        timeline.forget(7);
        timeline.stamp(7, Stage::Answered, t0 + milliseconds(5));  // a late answer of a dropped unit
        QVERIFY(timeline.summary().empty());
    }
};

QTEST_GUILESS_MAIN(TestUnitTimeline)
#include "tst_UnitTimeline.moc"
