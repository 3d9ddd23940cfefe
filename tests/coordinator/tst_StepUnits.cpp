// StepUnits: a step's units read from the store once, kept current by acceptances; the store's
// own list again when asked after forget() or for another version.
#include <QtTest>

#include "coordinator/StepUnits.h"

using namespace raven;
using namespace raven::coordinator;

namespace {

const QDateTime kAt(QDate(2026, 12, 2), QTime(7, 0), Qt::UTC);

ledger::WorkUnit unit(ledger::WorkUnitId id, qint64 version, ledger::WorkUnitState state) {
    ledger::WorkUnit u;
    u.id = id;
    u.job = 1;
    u.modelVersion = version;
    u.state = state;
    return u;
}

}  // namespace

class StepUnitsTest : public QObject {
    Q_OBJECT
private slots:
    void readOnceThenKeptByAcceptances() {
        StepUnits steps;
        int reads = 0;
        const auto store = [&] {
            ++reads;
            return QList<ledger::WorkUnit>{unit(10, 3, ledger::WorkUnitState::Done),
                                           unit(11, 3, ledger::WorkUnitState::Leased),
                                           unit(12, 3, ledger::WorkUnitState::Pending)};
        };
        QCOMPARE(steps.of(1, 3, store).size(), 3);
        QCOMPARE(steps.undone(1), 2);
        steps.done(1, 12, 7, kAt);
        steps.done(1, 12, 7, kAt);  // a second acceptance of the same unit counts once
        steps.done(1, 99, 7, kAt);  // a unit of another step: ignored
        steps.done(2, 11, 7, kAt);  // another job: ignored
        QCOMPARE(steps.undone(1), 1);
        const QList<ledger::WorkUnit> kept = steps.of(1, 3, store);
        QCOMPARE(reads, 1);
        QCOMPARE(kept[2].state, ledger::WorkUnitState::Done);
        QCOMPARE(kept[2].acceptedAt, kAt);  // as the store has a done unit
        QCOMPARE(kept[2].acceptedFrom, std::optional<ledger::ContributorId>(7));
        QCOMPARE(kept[1].state, ledger::WorkUnitState::Leased);
        steps.done(1, 11, 7, kAt);
        QCOMPARE(steps.undone(1), 0);
        // Another version, or after forget(): read again.
        steps.of(1, 4, store);
        QCOMPARE(reads, 2);
        steps.forget(1);
        QCOMPARE(steps.undone(1), 0);
        steps.of(1, 4, store);
        QCOMPARE(reads, 3);
        QCOMPARE(steps.undone(1), 2);
    }

    void anEmptyStepIsNotKept() {
        StepUnits steps;
        int reads = 0;
        QVERIFY(steps.of(5, 0, [&] { ++reads; return QList<ledger::WorkUnit>{}; }).isEmpty());
        QVERIFY(steps.of(5, 0, [&] {
                         ++reads;
                         return QList<ledger::WorkUnit>{unit(1, 0, ledger::WorkUnitState::Pending)};
                     }).size() == 1);
        QCOMPARE(reads, 2);  // the units added after the empty read are seen
        QCOMPARE(steps.undone(5), 1);
    }
};

QTEST_GUILESS_MAIN(StepUnitsTest)
#include "tst_StepUnits.moc"
