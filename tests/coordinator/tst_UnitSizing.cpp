// UnitSizing: a job's cut from its model and the figures of the fleet. The round trip measured to the
// contributors counts by its median, rounded up to a power of two and never below the nominal one; their
// upload rate by its median, rounded down to a power of two and never above the nominal link.
#include <QtTest>

#include <cmath>
#include <limits>

#include "coordinator/UnitSizing.h"
#include "nn/Architecture.h"
#include "nn/ModelSpec.h"
#include "training/StepPlan.h"
#include "training/SyntheticDataset.h"

using namespace raven;
using coordinator::UnitSizing;

class UnitSizingTest : public QObject {
    Q_OBJECT

    const nn::Architecture arch_{nn::ModelSpec::parse(testing::kSyntheticMlpSpec)};

    // A training split of 128 shards of 32 samples (the sizing reads only the counts).
    static data::Manifest manifest() {
        data::Manifest m;
        m.name = "sized";
        m.featureShape = {6};
        for (int i = 0; i < 128; ++i)
            m.train.shards.push_back({QStringLiteral("%1").arg(i, 64, 10, QLatin1Char('0')), 32});
        m.train.samples = 128 * 32;
        return m;
    }
    // Units a step of 128 shards, at the given figures.
    std::int64_t unitsPerStep(const UnitSizing& sizing) const {
        const training::StepPlan plan(manifest(), {4096, 1, 0, 4});
        const std::int64_t shards = plan.shardsPerStep();
        const std::int64_t per = sizing.shardsPerUnit(arch_, plan, 4.0);
        return (shards + per - 1) / per;
    }
    // Nominal figures under which this small model's step of 128 shards makes many units.
    static UnitSizing slowFleet() {
        UnitSizing sizing;
        sizing.workerGflops = 0.05;
        sizing.linkMbitPerS = 1e6;
        return sizing;
    }

private slots:
    void theMedianRoundTripRoundedUpToAPowerOfTwo() {
        const UnitSizing nominal;
        QCOMPARE(nominal.forRoundTrips({42, 55, 61}).roundTripMs, 64.0);
        QCOMPARE(nominal.forRoundTrips({3, 900, 40, 41, 7000}).roundTripMs, 64.0);  // the far ones do not drag it
        QCOMPARE(nominal.forRoundTrips({64}).roundTripMs, 64.0);
        QCOMPARE(nominal.forRoundTrips({65}).roundTripMs, 128.0);
        QCOMPARE(nominal.forRoundTrips({42, 55, 61}).roundTripMeasuredOver, 3);
    }

    void neverBelowTheNominalRoundTrip() {
        UnitSizing nominal;
        QCOMPARE(nominal.forRoundTrips({0, 0, 1}).roundTripMs, 1.0);  // loopback, a LAN: as before
        nominal.roundTripMs = 20;
        QCOMPARE(nominal.forRoundTrips({5, 6, 7}).roundTripMs, 20.0);  // the operator's floor stands
        QCOMPARE(nominal.forRoundTrips({5, 6, 7}).roundTripMeasuredOver, 3);
        QCOMPARE(nominal.forRoundTrips({30}).roundTripMs, 32.0);
    }

    void nothingMeasuredLeavesTheNominalFigures() {
        const UnitSizing nominal;
        const UnitSizing sized = nominal.forRoundTrips({});
        QCOMPARE(sized.roundTripMs, nominal.roundTripMs);
        QCOMPARE(sized.roundTripMeasuredOver, 0);
        QVERIFY(QString::fromStdString(sized.describe()).contains("nominal: no contributor measured"));
        // Nonsense from a peer or a clock is not a measurement.
        const double nan = std::numeric_limits<double>::quiet_NaN();
        QCOMPARE(nominal.forRoundTrips({nan, -4, std::numeric_limits<double>::infinity()}).roundTripMeasuredOver, 0);
        QCOMPARE(nominal.forRoundTrips({1e300}).roundTripMs, std::exp2(std::ceil(std::log2(86'400'000.0))));
    }

    void aFartherFleetGetsFewerLargerUnits() {
        const UnitSizing nominal = slowFleet();
        const std::int64_t near = unitsPerStep(nominal.forRoundTrips({0.2, 0.3}));
        QCOMPARE(near, unitsPerStep(nominal));
        QVERIFY2(near >= 8, qPrintable(QString::number(near)));
        std::int64_t previous = near;
        for (double ms : {8.0, 50.0, 200.0, 1000.0}) {
            const std::int64_t units = unitsPerStep(nominal.forRoundTrips({ms, ms, ms}));
            QVERIFY2(units <= previous,
                     qPrintable(QStringLiteral("%1 ms: %2 units after %3").arg(ms).arg(units).arg(previous)));
            previous = units;
        }
        QVERIFY2(previous < near, qPrintable(QString::number(previous)));
    }

    void fleetsOfOneCharacterCutAJobAlike() {
        // Whoever of a fleet 40-60 ms away is connected, the job is cut the same way.
        const UnitSizing nominal = slowFleet();
        const std::int64_t some = unitsPerStep(nominal.forRoundTrips({41, 58}));
        QCOMPARE(unitsPerStep(nominal.forRoundTrips({47})), some);
        QCOMPARE(unitsPerStep(nominal.forRoundTrips({44, 52, 63, 39, 60})), some);
    }

    void nominalOnlyIgnoresWhatWasMeasured() {
        UnitSizing nominal;
        nominal.fromFleet = false;
        QCOMPARE(nominal.forRoundTrips({50, 60, 70}).roundTripMs, 1.0);
        QVERIFY(QString::fromStdString(nominal.forRoundTrips({50}).describe()).contains("--unit-nominal-only"));
    }

    void theMedianUploadRateRoundedDownToAPowerOfTwo() {
        const UnitSizing nominal;  // 1000 Mbit/s
        QCOMPARE(nominal.forUploadRates({9.5, 12, 14}).linkMbitPerS, 8.0);
        QCOMPARE(nominal.forUploadRates({3, 40, 41, 45, 900}).linkMbitPerS, 32.0);
        QCOMPARE(nominal.forUploadRates({16}).linkMbitPerS, 16.0);
        QCOMPARE(nominal.forUploadRates({0.3}).linkMbitPerS, 0.25);
        QCOMPARE(nominal.forUploadRates({9.5, 12, 14}).linkMeasuredOver, 3);
    }

    void neverAboveTheNominalLink() {
        UnitSizing nominal;
        QCOMPARE(nominal.forUploadRates({5000, 8000}).linkMbitPerS, 1000.0);  // loopback: as before
        QCOMPARE(nominal.forUploadRates({600}).linkMbitPerS, 512.0);          // slower than nominal counts
        nominal.linkMbitPerS = 20;
        QCOMPARE(nominal.forUploadRates({100, 200}).linkMbitPerS, 20.0);  // the operator's figure stands
        QCOMPARE(nominal.forUploadRates({}).linkMbitPerS, 20.0);
        QCOMPARE(nominal.forUploadRates({-1, 0, std::numeric_limits<double>::quiet_NaN()}).linkMeasuredOver, 0);
        nominal.fromFleet = false;
        QCOMPARE(nominal.forUploadRates({2, 3}).linkMbitPerS, 20.0);
    }

    void aSlowerUplinkGetsFewerLargerUnits() {
        const UnitSizing nominal = slowFleet();
        const std::int64_t fast = unitsPerStep(nominal);
        std::int64_t previous = fast;
        for (double mbit : {100.0, 10.0, 1.0, 0.1, 0.01}) {
            const std::int64_t units = unitsPerStep(nominal.forUploadRates({mbit, mbit}));
            QVERIFY2(units <= previous,
                     qPrintable(QStringLiteral("%1 Mbit/s: %2 units after %3").arg(mbit).arg(units).arg(previous)));
            previous = units;
        }
        QVERIFY2(previous < fast, qPrintable(QString::number(previous)));
    }

    void describeSaysWhatTheCutWasSizedFor() {
        const QString text = QString::fromStdString(UnitSizing{}.forRoundTrips({50}).describe());
        QVERIFY2(text ==
                     "64 ms round trip (measured over 1 contributor), 1000 Mbit/s (nominal: no contributor "
                     "measured), 50 GFLOP/s per worker",
                 qPrintable(text));
        const QString both =
            QString::fromStdString(UnitSizing{}.forRoundTrips({50, 70}).forUploadRates({12}).describe());
        QVERIFY2(both ==
                     "128 ms round trip (measured over 2 contributors), 8 Mbit/s (measured over 1 contributor), "
                     "50 GFLOP/s per worker",
                 qPrintable(both));
    }
};

QTEST_GUILESS_MAIN(UnitSizingTest)
#include "tst_UnitSizing.moc"
