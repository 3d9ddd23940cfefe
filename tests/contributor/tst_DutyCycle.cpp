// The GPU cap's duty cycle (core/worker/DutyCycle.h) on the wall clock, with real sleeps for the
// work and the waits: the share it keeps inside a long unit (rests between chunks), between units
// with waits for data counted as rest already taken, a changed percent waking a rest, and the share
// it measures. Shares are checked with a margin for a busy machine's scheduling (a few percent).
// And the chunked gradient a capped unit computes equals the one-piece gradient (to float rounding).
#include <QTest>

#include <thread>

#include "../training/SyntheticDataset.h"
#include "nn/Model.h"
#include "nn/ModelSpec.h"
#include "training/ShardGradient.h"
#include "worker/DutyCycle.h"
#include "worker/PacedGradient.h"

using namespace raven;
using raven::worker::DutyCycle;
using namespace std::chrono_literals;

class TestDutyCycle : public QObject {
    Q_OBJECT

    static void work(DutyCycle& duty, std::chrono::milliseconds ms) {
        duty.workBegan();
        std::this_thread::sleep_for(ms);
        duty.workEnded();
    }

private slots:
    void uncappedNeverRestsAndMeasuresAll() {
        DutyCycle duty;
        QCOMPARE(duty.busyShare(), -1.0);
        QCOMPARE(duty.restDue().count(), 0);
        duty.workBegan();
        std::this_thread::sleep_for(300ms);
        QCOMPARE(duty.restDue().count(), 0);
        QVERIFY2(duty.busyShare() > 0.95, qPrintable(QString::number(duty.busyShare())));
        duty.workEnded();
    }

    // One long unit in chunks of 100 ms at a 30 % cap: the rests between chunks hold the share.
    void restsBetweenChunksKeepTheCap() {
        DutyCycle duty;
        duty.setPercent(30);
        duty.workBegan();
        std::chrono::milliseconds rested{0};
        for (int chunk = 0; chunk < 12; ++chunk) {
            std::this_thread::sleep_for(100ms);
            rested += duty.restBetweenChunks();
        }
        duty.workEnded();
        const double share = duty.busyShare();
        QVERIFY2(share >= 0.26 && share <= 0.34, qPrintable(QString::number(share)));
        // The rests it reports (the unit's speed leaves them out): about 1.2 s * 70 / 30.
        QVERIFY2(rested >= 2300ms && rested <= 3300ms, qPrintable(QString::number(rested.count())));
    }

    // Units of 200 ms with 100 ms waits for data between them, at a 50 % cap: the rest after each unit
    // is what the share needs beyond the wait (about 100 ms), not another 200 ms (which gave 40 %).
    void waitsForDataCountAsRest() {
        DutyCycle duty;
        duty.setPercent(50);
        for (int unit = 0; unit < 8; ++unit) {
            work(duty, 200ms);
            std::this_thread::sleep_for(100ms);  // the next unit's inputs arrive
            const auto rest = duty.restDue();
            QVERIFY2(rest <= 150ms, qPrintable(QString::number(rest.count())));
            std::this_thread::sleep_for(rest);
        }
        const double share = duty.busyShare();
        QVERIFY2(share >= 0.45 && share <= 0.55, qPrintable(QString::number(share)));
    }

    // A device that waits for data more than the cap asks never rests.
    void noRestWhenTheDeviceWaitsAnyway() {
        DutyCycle duty;
        duty.setPercent(60);
        for (int unit = 0; unit < 4; ++unit) {
            work(duty, 50ms);
            std::this_thread::sleep_for(100ms);
            QCOMPARE(duty.restDue().count(), 0);
        }
        QVERIFY(duty.busyShare() < 0.45);
    }

    // A rest in progress ends when the cap is lifted (and the measurement starts afresh).
    void liftingTheCapWakesARest() {
        DutyCycle duty;
        duty.setPercent(10);
        work(duty, 300ms);  // asks for 2.7 s of rest
        QVERIFY(duty.restDue() > 2000ms);
        std::thread lifter([&] {
            std::this_thread::sleep_for(200ms);
            duty.setPercent(100);
        });
        QElapsedTimer clock;
        clock.start();
        duty.restBetweenChunks();
        lifter.join();
        QVERIFY2(clock.elapsed() < 1500, qPrintable(QString::number(clock.elapsed())));
        duty.workEnded();
        QCOMPARE(duty.restDue().count(), 0);
    }

    // 300 samples in chunks (a cap below 100 %) against one batch: the summed-loss gradient, the loss
    // and the count of correct answers agree; the rests between the chunks happened.
    void chunkedGradientEqualsOnePiece() {
        const data::Dataset ds = testing::syntheticDataset(300, 1);
        nn::Model model(nn::ModelSpec::parse(testing::kSyntheticMlpSpec));
        const training::GradientSums whole = training::computeGradientSums(model, ds.train, ds.normalization);
        DutyCycle duty;
        duty.setPercent(50);
        QVERIFY(worker::computesInChunks(model, ds.train, duty));
        duty.workBegan();
        const training::GradientSums paced = worker::computeGradientSumsPaced(model, ds.train, ds.normalization, duty);
        duty.workEnded();
        QCOMPARE(paced.samples, whole.samples);
        QCOMPARE(paced.correct, whole.correct);
        QVERIFY(std::abs(paced.lossSum - whole.lossSum) <= 1e-4 * std::abs(whole.lossSum));
        QCOMPARE(paced.gradient.size(), whole.gradient.size());
        double worst = 0, scale = 0;
        for (std::size_t i = 0; i < whole.gradient.size(); ++i) {
            worst = std::max(worst, static_cast<double>(std::abs(paced.gradient[i] - whole.gradient[i])));
            scale = std::max(scale, static_cast<double>(std::abs(whole.gradient[i])));
        }
        QVERIFY2(worst <= 1e-4 * scale, qPrintable(QStringLiteral("%1 of %2").arg(worst).arg(scale)));
        // Without a cap: one piece, as before.
        duty.setPercent(100);
        QVERIFY(!worker::computesInChunks(model, ds.train, duty));
    }

    void cancelEndsARest() {
        DutyCycle duty;
        duty.setPercent(10);
        work(duty, 200ms);
        std::thread canceller([&] {
            std::this_thread::sleep_for(100ms);
            duty.cancelRests();
        });
        QElapsedTimer clock;
        clock.start();
        duty.restBetweenChunks();
        canceller.join();
        duty.workEnded();
        QVERIFY2(clock.elapsed() < 1000, qPrintable(QString::number(clock.elapsed())));
    }
};

QTEST_GUILESS_MAIN(TestDutyCycle)
#include "tst_DutyCycle.moc"
