// StepsAhead: a step taken ahead of its last acceptance is adopted only once it is computed and the
// store has paid the very result it was taken from; any other outcome for that unit drops it.
#include <QtTest>

#include "coordinator/StepsAhead.h"

using namespace raven;
using coordinator::StepsAhead;

class StepsAheadTest : public QObject {
    Q_OBJECT

    static constexpr ledger::JobId kJob = 3;
    const coordinator::JobRunner* runner_ = reinterpret_cast<const coordinator::JobRunner*>(0x1000);
    const StepsAhead::Origin origin_{11, 42, 7, 99};  // connection, request, contributor, unit

    std::uint64_t begin(StepsAhead& ahead, qint64 version = 5) {
        auto work = std::make_shared<coordinator::StepWork>();
        work->version = version;
        return ahead.begin(kJob, runner_, origin_, work);
    }
    static coordinator::StepProduct product() {
        coordinator::StepProduct p;
        p.weights = QByteArray("V + 1");
        return p;
    }

private slots:
    void aStepIsReadyOnceComputedAndItsResultPaid() {
        StepsAhead ahead;
        const std::uint64_t serial = begin(ahead);
        QVERIFY(ahead.computing(kJob));
        ahead.judged(kJob, origin_, true);
        QVERIFY(!ahead.ready(kJob, runner_, 5));  // still computing
        ahead.computed(kJob, serial, product());
        QVERIFY(!ahead.computing(kJob));
        QVERIFY(ahead.ready(kJob, runner_, 5));
        std::optional<StepsAhead::Step> step = ahead.take(kJob, runner_, 5);
        QVERIFY(step.has_value());
        QCOMPARE(step->product->weights, QByteArray("V + 1"));
        QVERIFY(!ahead.has(kJob));
        QCOMPARE(ahead.adopted(), std::uint64_t(1));
    }

    void aComputedStepWaitsForItsResultToBePaid() {
        StepsAhead ahead;
        ahead.computed(kJob, begin(ahead), product());
        QVERIFY(!ahead.ready(kJob, runner_, 5));
        ahead.judged(kJob, {11, 43, 7, 98}, true);  // another unit's result: not this step's last
        QVERIFY(ahead.has(kJob));
        QVERIFY(!ahead.ready(kJob, runner_, 5));
        ahead.judged(kJob, origin_, true);
        QVERIFY(ahead.ready(kJob, runner_, 5));
    }

    void aRefusedResultDropsItsStep() {
        StepsAhead ahead;
        begin(ahead);
        ahead.judged(kJob, origin_, false);
        QVERIFY(!ahead.has(kJob));
        QCOMPARE(ahead.dropped(), std::uint64_t(1));
    }

    // The unit paid to another connection, request or contributor: the step sums what was paid.
    void anotherResultPaidForTheUnitDropsTheStep() {
        for (const StepsAhead::Origin other : {StepsAhead::Origin{12, 42, 7, 99}, StepsAhead::Origin{11, 41, 7, 99},
                                               StepsAhead::Origin{11, 42, 8, 99}}) {
            StepsAhead ahead;
            begin(ahead);
            ahead.judged(kJob, other, true);
            QVERIFY(!ahead.has(kJob));
        }
    }

    void aFailedStepIsNotTaken() {
        StepsAhead ahead;
        const std::uint64_t serial = begin(ahead);
        ahead.judged(kJob, origin_, true);
        ahead.computed(kJob, serial, std::nullopt);
        QVERIFY(!ahead.ready(kJob, runner_, 5));
        QVERIFY(!ahead.take(kJob, runner_, 5).has_value());
        QVERIFY(!ahead.has(kJob));
    }

    // Taken by a runner since replaced, or for another version: dropped when the step is applied.
    void aStepOfAnotherRunnerOrVersionIsDropped() {
        StepsAhead ahead;
        const std::uint64_t serial = begin(ahead);
        ahead.judged(kJob, origin_, true);
        ahead.computed(kJob, serial, product());
        const auto* other = reinterpret_cast<const coordinator::JobRunner*>(0x2000);
        QVERIFY(!ahead.ready(kJob, other, 5));
        QVERIFY(!ahead.ready(kJob, runner_, 6));
        QVERIFY(!ahead.take(kJob, other, 5).has_value());
        QVERIFY(!ahead.has(kJob));
    }

    // The answer of a step dropped meanwhile does not land on the next one.
    void anOldAnswerIsIgnored() {
        StepsAhead ahead;
        const std::uint64_t first = begin(ahead);
        ahead.drop(kJob);
        const std::uint64_t second = begin(ahead);
        QVERIFY(first != second);
        ahead.computed(kJob, first, product());
        QVERIFY(ahead.computing(kJob));
        ahead.computed(kJob, second, product());
        QVERIFY(!ahead.computing(kJob));
    }
};

QTEST_GUILESS_MAIN(StepsAheadTest)
#include "tst_StepsAhead.moc"
