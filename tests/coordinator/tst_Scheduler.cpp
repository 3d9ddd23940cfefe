// The scheduler's place keeping over a real store on disk (the ledger tests' World): a worker that
// computed the unit at place p of a step is offered place p of the next step first, then places
// nobody held, then other workers' places; a worker that is gone does not hold its places back.
#include "ledger/LedgerFixture.h"

#include "coordinator/Scheduler.h"

using namespace raven;
using namespace raven::coordinator;
using namespace raven::ledger;
using namespace raven::ledger::test;

namespace {

struct Fleet {
    World w;
    Scheduler scheduler{*w.store, *w.leases};
    ContributorId erin = 0;

    Fleet() {
        w.fund(1000 * kCredit, 1000 * kCredit);
        erin = w.store->addContributor("erin", newSecret(), QJsonArray{}, 10.0, kT0);
    }
    // `count` units of step `version`, in place order; each names its own shard.
    QList<WorkUnitId> step(qint64 version, int count) {
        QList<NewWorkUnit> list;
        for (int i = 0; i < count; ++i)
            list << NewWorkUnit{{QString(64, QLatin1Char('a' + i % 6))}, static_cast<qint64>(kTeraflop)};
        return w.store->addWorkUnits(w.job, version, list);
    }
    // What `c` is granted when it asks for up to `maxUnits` (its speed-proportional share is never
    // the limit here: the total speed given is its own).
    QList<WorkUnitId> lease(ContributorId c, qint64 version, int maxUnits) {
        const Scheduler::Grant g =
            scheduler.lease({c, 10.0, 0}, maxUnits, {{w.job, version}}, 10.0, kT0.addSecs(600), kT0, QDateTime());
        QList<WorkUnitId> ids;
        for (const WorkUnit& unit : g.units) ids << unit.id;
        return ids;
    }
    void deliver(ContributorId c, const QList<WorkUnitId>& ids) {
        for (const WorkUnitId id : ids) QCOMPARE(w.leases->acceptResult(id, c, kT0).outcome, AcceptOutcome::Accepted);
    }
};

}  // namespace

class SchedulerTest : public QObject {
    Q_OBJECT
private slots:
    void aWorkerKeepsItsPlacesFromStepToStep() {
        Fleet f;
        const QList<WorkUnitId> s0 = f.step(0, 4);
        // Step 0 in order: carol asks first and takes places 0 and 1, dave 2 and 3.
        const QList<WorkUnitId> carol0 = f.lease(f.w.carol, 0, 2);
        const QList<WorkUnitId> dave0 = f.lease(f.w.dave, 0, 2);
        QCOMPARE(carol0, (QList<WorkUnitId>{s0[0], s0[1]}));
        QCOMPARE(dave0, (QList<WorkUnitId>{s0[2], s0[3]}));
        QCOMPARE(f.scheduler.holderOfPlace(f.w.job, 3), f.w.dave);
        f.deliver(f.w.carol, carol0);
        f.deliver(f.w.dave, dave0);

        // Step 1: dave asks first this time, and still gets his places, 2 and 3, not the first units.
        const QList<WorkUnitId> s1 = f.step(1, 4);
        QCOMPARE(f.scheduler.placeOf({f.w.job, 1}, s1[2]), 2);
        const QList<WorkUnitId> dave1 = f.lease(f.w.dave, 1, 2);
        QCOMPARE(dave1, (QList<WorkUnitId>{s1[2], s1[3]}));
        const QList<WorkUnitId> carol1 = f.lease(f.w.carol, 1, 2);
        QCOMPARE(carol1, (QList<WorkUnitId>{s1[0], s1[1]}));
        // forgetJob() (called at every step, for speculation) keeps the places.
        f.scheduler.forgetJob(f.w.job);
        QCOMPARE(f.scheduler.holderOfPlace(f.w.job, 0), f.w.carol);
        f.w.expectSound();
    }

    // A round of as many units as workers (local-steps lanes): a worker a little faster than the mean
    // takes one, so that the last to ask still finds one; a worker twice the mean takes two.
    void aWorkerTakesItsShareRoundedToTheNearestUnit() {
        Fleet f;
        const QList<WorkUnitId> round = f.step(0, 8);
        const auto ask = [&](ContributorId c, double gflops) {
            // Eight workers connected: seven at 10 GFLOP/s and the one asking.
            return f.scheduler
                .lease({c, gflops, 0}, 8, {{f.w.job, 0}}, 70.0 + gflops, kT0.addSecs(600), kT0, QDateTime())
                .units.size();
        };
        QCOMPARE(ask(f.w.carol, 13.0), 1);  // 8 x 13 / 83 = 1.25 units
        QCOMPARE(ask(f.w.dave, 25.0), 2);   // 7 waiting x 25 / 95 = 1.84 units
        QCOMPARE(ask(f.erin, 1.0), 1);      // a slow worker still takes one
        QCOMPARE(round.size(), 8);
        f.w.expectSound();
    }

    void aNewcomerTakesPlacesNobodyHeldBeforeOthersPlaces() {
        Fleet f;
        const QList<WorkUnitId> s0 = f.step(0, 2);
        const QList<WorkUnitId> carol0 = f.lease(f.w.carol, 0, 1);
        const QList<WorkUnitId> dave0 = f.lease(f.w.dave, 0, 1);
        QCOMPARE(carol0, QList<WorkUnitId>{s0[0]});
        QCOMPARE(dave0, QList<WorkUnitId>{s0[1]});
        f.deliver(f.w.carol, carol0);
        f.deliver(f.w.dave, dave0);
        // A larger step 1 and a third worker asking first: it gets places 2 and 3, nobody's yet.
        const QList<WorkUnitId> s1 = f.step(1, 4);
        QCOMPARE(f.lease(f.erin, 1, 2), (QList<WorkUnitId>{s1[2], s1[3]}));
        QCOMPARE(f.lease(f.w.dave, 1, 1), QList<WorkUnitId>{s1[1]});
        QCOMPARE(f.lease(f.w.carol, 1, 1), QList<WorkUnitId>{s1[0]});
    }

    void aWorkerThatIsGoneHoldsNoPlaceBack() {
        Fleet f;
        const QList<WorkUnitId> s0 = f.step(0, 2);
        const QList<WorkUnitId> carol0 = f.lease(f.w.carol, 0, 1);
        const QList<WorkUnitId> dave0 = f.lease(f.w.dave, 0, 1);
        f.deliver(f.w.carol, carol0);
        f.deliver(f.w.dave, dave0);
        // Dave left: carol alone takes the whole of step 1, her own place first, and dave's place is hers now.
        const QList<WorkUnitId> s1 = f.step(1, 2);
        QCOMPARE(f.lease(f.w.carol, 1, 2), (QList<WorkUnitId>{s1[0], s1[1]}));
        QCOMPARE(f.scheduler.holderOfPlace(f.w.job, 1), f.w.carol);
        // Dave comes back while every place is carol's: he is not kept waiting, he gets the first of them.
        f.deliver(f.w.carol, {s1[0], s1[1]});
        const QList<WorkUnitId> s2 = f.step(2, 2);
        QCOMPARE(f.lease(f.w.dave, 2, 1), QList<WorkUnitId>{s2[0]});
        QCOMPARE(f.lease(f.w.carol, 2, 1), QList<WorkUnitId>{s2[1]});
        QCOMPARE(f.scheduler.holderOfPlace(f.w.job, 0), f.w.dave);
        Q_UNUSED(s0);
    }

    void aReissuedUnitGoesBeforePlacesNobodyHeld() {
        Fleet f;
        const QList<WorkUnitId> s0 = f.step(0, 3);
        QCOMPARE(f.lease(f.w.carol, 0, 1), QList<WorkUnitId>{s0[0]});
        QCOMPARE(f.lease(f.w.dave, 0, 1), QList<WorkUnitId>{s0[1]});
        // Dave hands his unit back: the step now waits for it, so erin gets it before place 2, which
        // nobody has held (as dave's place it would otherwise come last).
        QVERIFY(f.w.leases->handBack(s0[1], f.w.dave, kT0));
        QCOMPARE(f.lease(f.erin, 0, 1), QList<WorkUnitId>{s0[1]});
        QCOMPARE(f.lease(f.w.carol, 0, 1), QList<WorkUnitId>{s0[2]});
    }
};

QTEST_GUILESS_MAIN(SchedulerTest)
#include "tst_Scheduler.moc"
