// The lease desk over a real store on disk (the ledger tests' World): how much a worker may hold,
// parked requests answered when work appears and only after their leases are committed, the
// speculation threshold, hand-backs and expiry counted per job.
#include "ledger/LedgerFixture.h"

#include "coordinator/LeaseDesk.h"

using namespace raven;
using namespace raven::coordinator;
using namespace raven::ledger;
using namespace raven::ledger::test;

namespace {

constexpr qint64 kDeadlineMs = 60'000;

struct Desk {
    World w;
    Scheduler scheduler{*w.store, *w.leases};
    LeaseDesk desk{*w.store, *w.leases, scheduler, kDeadlineMs};

    Desk() { w.fund(100 * kCredit, 100 * kCredit); }
    std::vector<Scheduler::JobSlot> jobs() const { return {{w.job, 0}}; }
    Scheduler::Grant grant(ContributorId c, int maxUnits, const QDateTime& now) {
        return desk.grant({c, 10.0, 0}, maxUnits, jobs(), 10.0, now);
    }
};

wire::Envelope grantEnvelope(const Scheduler::Grant& g) {
    wire::Envelope e;
    for (const WorkUnit& unit : g.units) e.mutable_lease_grant()->add_units()->set_id(std::to_string(unit.id));
    return e;
}

}  // namespace

class LeaseDeskTest : public QObject {
    Q_OBJECT
private slots:
    void aNewWorkerHoldsFewUnitsUntilItDelivers() {
        Desk d;
        const QList<WorkUnitId> u = d.w.units(8);
        QCOMPARE(d.grant(d.w.carol, 8, kT0).units.size(), LeaseDesk::kStartingLeases);
        QCOMPARE(d.grant(d.w.carol, 8, kT0).units.size(), 0);  // holds its two: nothing more
        // One result delivered: it may hold two more.
        d.desk.delivered(d.w.carol, kT0, kT0.addSecs(1));
        QCOMPARE(d.desk.holdCap(d.w.carol, kT0.addSecs(1)), LeaseDesk::kStartingLeases + 2);
        QCOMPARE(d.grant(d.w.carol, 8, kT0.addSecs(1)).units.size(), 2);
        // Deliveries older than a unit deadline no longer count.
        QCOMPARE(d.desk.holdCap(d.w.carol, kT0.addMSecs(kDeadlineMs + 2000)), LeaseDesk::kStartingLeases);
        // The worker's own limit applies too.
        QCOMPARE(d.desk.grant({d.w.dave, 10.0, 1}, 8, d.jobs(), 10.0, kT0).units.size(), 1);
        QCOMPARE(d.w.leases->activeLeases(d.w.dave).size(), 1);
        Q_UNUSED(u);
    }

    void aUnitWhoseResultIsHandedInNoLongerCountsAsHeld() {
        Desk d;
        const QList<WorkUnitId> u = d.w.units(6);
        const Scheduler::Grant first = d.grant(d.w.carol, 8, kT0);
        QCOMPARE(first.units.size(), LeaseDesk::kStartingLeases);
        QCOMPARE(d.grant(d.w.carol, 8, kT0).units.size(), 0);
        // A unit that is not carol's, handed in by her, frees nothing: she cannot talk her way to more.
        d.desk.handedIn(d.w.carol, u.last());
        QCOMPARE(d.grant(d.w.carol, 8, kT0).units.size(), 0);
        // Her first result is all in: while it is checked and written she gets her next unit.
        d.desk.handedIn(d.w.carol, first.units[0].id);
        QCOMPARE(d.grant(d.w.carol, 8, kT0).units.size(), 1);
        QCOMPARE(d.grant(d.w.carol, 8, kT0).units.size(), 0);
        // Judged (refused, say: the lease stays until it ends): it counts again, so she is over her cap.
        d.desk.judged(d.w.carol, first.units[0].id);
        QCOMPARE(d.grant(d.w.carol, 8, kT0).units.size(), 0);
        // Results waiting to be judged are let off up to her cap, no further: she cannot pile them up.
        {
            Desk e;
            const QList<WorkUnitId> v = e.w.units(12);
            QList<WorkUnitId> held;
            for (const WorkUnit& unit : e.grant(e.w.carol, 8, kT0).units) held << unit.id;
            for (int round = 0; round < 4; ++round) {
                for (const WorkUnitId unit : held) e.desk.handedIn(e.w.carol, unit);
                for (const WorkUnit& unit : e.grant(e.w.carol, 8, kT0).units) held << unit.id;
            }
            QCOMPARE(held.size(), 2 * LeaseDesk::kStartingLeases);
            Q_UNUSED(v);
        }
        // Her own limit counts handed-in units out too.
        d.desk.handedIn(d.w.dave, 0);
        const Scheduler::Grant daves = d.desk.grant({d.w.dave, 10.0, 1}, 8, d.jobs(), 10.0, kT0);
        QCOMPARE(daves.units.size(), 1);
        QCOMPARE(d.desk.grant({d.w.dave, 10.0, 1}, 8, d.jobs(), 10.0, kT0).units.size(), 0);
        d.desk.handedIn(d.w.dave, daves.units[0].id);
        QCOMPARE(d.desk.grant({d.w.dave, 10.0, 1}, 8, d.jobs(), 10.0, kT0).units.size(), 1);
    }

    void aParkedRequestIsOfferedAgainWhenItsWorkerHandsInAResult() {
        Desk d;
        d.w.units(4);
        const Scheduler::Grant held = d.grant(d.w.carol, 8, kT0);
        QCOMPARE(held.units.size(), LeaseDesk::kStartingLeases);
        d.desk.park({7, 1, 1, {}, d.w.carol}, kT0);
        std::vector<std::uint64_t> answered;
        const auto grantFor = [&](const LeaseDesk::ParkedLease& p) -> std::optional<wire::Envelope> {
            return grantEnvelope(d.grant(p.contributor, p.maxUnits, kT0.addMSecs(10)));
        };
        const auto failed = [](const LeaseDesk::ParkedLease&, const std::exception&) { return wire::Envelope(); };
        const auto send = [&](const LeaseDesk::ParkedLease& p, const wire::Envelope& e) {
            QCOMPARE(e.lease_grant().units_size(), 1);
            answered.push_back(p.requestId);
        };
        d.desk.serveParked(kT0.addMSecs(10), grantFor, failed, send);
        QVERIFY(answered.empty());
        d.desk.handedIn(d.w.carol, held.units[1].id);
        d.desk.serveParked(kT0.addMSecs(10), grantFor, failed, send);
        QCOMPARE(answered, std::vector<std::uint64_t>{1});
    }

    void aParkedRequestIsAnsweredWhenWorkAppearsAfterItsLeasesAreCommitted() {
        Desk d;
        QVERIFY(d.grant(d.w.carol, 2, kT0).units.isEmpty());
        d.desk.park({7, 42, 2, {}}, kT0);
        QCOMPARE(d.desk.parkedCount(), std::size_t(1));
        std::vector<std::pair<std::uint64_t, int>> sent;
        const auto grantFor = [&](const LeaseDesk::ParkedLease& p) -> std::optional<wire::Envelope> {
            return grantEnvelope(d.grant(d.w.carol, p.maxUnits, kT0.addMSecs(100)));
        };
        const auto failed = [](const LeaseDesk::ParkedLease&, const std::exception&) { return wire::Envelope(); };
        const auto send = [&](const LeaseDesk::ParkedLease& p, wire::Envelope e) {
            // Sent after the commit: another connection on the store file sees the leases.
            CoordinatorStore other(d.w.path);
            for (const wire::WorkUnit& unit : e.lease_grant().units())
                QCOMPARE(other.workUnit(std::stoll(unit.id()))->state, WorkUnitState::Leased);
            sent.emplace_back(p.requestId, e.lease_grant().units_size());
        };
        d.desk.serveParked(kT0.addMSecs(100), grantFor, failed, send);
        QVERIFY(sent.empty());  // nothing to lease yet, and its time is not up: still parked
        QCOMPARE(d.desk.parkedCount(), std::size_t(1));
        d.w.units(3);
        d.desk.workMayHaveAppeared();
        d.desk.serveParked(kT0.addMSecs(200), grantFor, failed, send);
        QCOMPARE(sent.size(), std::size_t(1));
        QCOMPARE(sent[0], (std::pair<std::uint64_t, int>(42, 2)));
        QCOMPARE(d.desk.parkedCount(), std::size_t(0));
    }

    void aParkedRequestIsOfferedAgainOnlyWhenSomethingMayHaveChangedItsAnswer() {
        Desk d;
        d.w.units(2);
        QCOMPARE(d.grant(d.w.carol, 8, kT0).units.size(), LeaseDesk::kStartingLeases);  // carol holds both
        d.desk.park({7, 1, 1, {}, d.w.carol}, kT0);
        d.desk.park({8, 2, 1, {}, d.w.dave}, kT0);
        std::vector<std::uint64_t> offered;
        const auto grantFor = [&](const LeaseDesk::ParkedLease& p) -> std::optional<wire::Envelope> {
            offered.push_back(p.requestId);
            return grantEnvelope(d.grant(p.contributor, p.maxUnits, kT0.addMSecs(100)));
        };
        const auto failed = [](const LeaseDesk::ParkedLease&, const std::exception&) { return wire::Envelope(); };
        std::vector<std::uint64_t> answered;
        const auto send = [&](const LeaseDesk::ParkedLease& p, const wire::Envelope&) {
            answered.push_back(p.requestId);
        };
        // Nothing happened: no request is offered (no store transaction, no scheduler query).
        d.desk.serveParked(kT0.addMSecs(100), grantFor, failed, send);
        QVERIFY(offered.empty());
        // Carol delivered: only her request is offered (her cap grew), and it stays parked: no units left.
        d.desk.delivered(d.w.carol, kT0, kT0.addMSecs(100));
        d.desk.serveParked(kT0.addMSecs(100), grantFor, failed, send);
        QCOMPARE(offered, std::vector<std::uint64_t>{1});
        QVERIFY(answered.empty());
        // A step's units appear: both are offered; dave's gets one, carol's another.
        offered.clear();
        d.w.units(2);
        d.desk.workMayHaveAppeared();
        d.desk.serveParked(kT0.addMSecs(100), grantFor, failed, send);
        QCOMPARE(offered, (std::vector<std::uint64_t>{1, 2}));
        QCOMPARE(answered, (std::vector<std::uint64_t>{1, 2}));
        // A request whose time is up is answered without any event.
        offered.clear();
        answered.clear();
        d.desk.park({9, 3, 1, {}, d.w.dave}, kT0);
        d.desk.serveParked(kT0.addMSecs(LeaseDesk::kParkMs - 1), grantFor, failed, send);
        QVERIFY(offered.empty());
        d.desk.serveParked(kT0.addMSecs(LeaseDesk::kParkMs), grantFor, failed, send);
        QCOMPARE(answered, std::vector<std::uint64_t>{3});
    }

    void aParkedRequestIsAnsweredEmptyWhenItsTimeIsUpOrDroppedWhenItsWorkerLeft() {
        Desk d;
        d.desk.park({7, 1, 1, {}}, kT0);
        d.desk.park({8, 2, 1, {}}, kT0);
        std::vector<std::uint64_t> answered;
        d.desk.serveParked(
            kT0.addMSecs(LeaseDesk::kParkMs),
            [&](const LeaseDesk::ParkedLease& p) -> std::optional<wire::Envelope> {
                if (p.connection == 8) return std::nullopt;  // that connection is gone
                return grantEnvelope(d.grant(d.w.carol, p.maxUnits, kT0.addMSecs(LeaseDesk::kParkMs)));
            },
            [](const LeaseDesk::ParkedLease&, const std::exception&) { return wire::Envelope(); },
            [&](const LeaseDesk::ParkedLease& p, const wire::Envelope& e) {
                QCOMPARE(e.lease_grant().units_size(), 0);
                answered.push_back(p.requestId);
            });
        QCOMPARE(answered, std::vector<std::uint64_t>{1});
        QCOMPARE(d.desk.parkedCount(), std::size_t(0));
    }

    void speculationWaitsForSeveralTypicalTurnarounds() {
        Desk d;
        QCOMPARE(d.desk.speculateAfterMs(), qint64(1000));  // nothing measured: a floor
        d.desk.delivered(d.w.carol, kT0, kT0.addMSecs(2000));
        QCOMPARE(d.desk.speculateAfterMs(), qint64(8000));  // four turnarounds
        d.desk.delivered(d.w.carol, kT0, kT0.addMSecs(100));
        QCOMPARE(d.desk.speculateAfterMs(), qint64(4.0 * (0.8 * 2000 + 0.2 * 100)));
    }

    void handBacksCountOnlyUnitsReallyHeld() {
        Desk d;
        const QList<WorkUnitId> u = d.w.units(3);
        QCOMPARE(d.w.leases->lease(u[0], d.w.carol, kT0.addSecs(60), kT0), LeaseOutcome::Granted);
        QCOMPARE(d.w.leases->lease(u[1], d.w.dave, kT0.addSecs(60), kT0), LeaseOutcome::Granted);
        const LeaseDesk::HandBack back = d.desk.handBack(d.w.carol, {u[0], u[1], u[2], 999}, kT0.addSecs(1));
        QCOMPARE(back.held.size(), 1);
        QCOMPARE(back.held[0].id, u[0]);
        QCOMPARE(back.reissued.value(d.w.job), 1);
        QCOMPARE(d.w.store->workUnit(u[1])->state, WorkUnitState::Leased);  // dave's stays his
    }

    void expiredLeasesAreCountedPerJob() {
        Desk d;
        const QList<WorkUnitId> u = d.w.units(2);
        QCOMPARE(d.grant(d.w.carol, 2, kT0).units.size(), 2);
        QVERIFY(d.desk.expire(kT0.addMSecs(kDeadlineMs - 1)).isEmpty());
        const QMap<JobId, int> reissued = d.desk.expire(kT0.addMSecs(kDeadlineMs));
        QCOMPARE(reissued.value(d.w.job), 2);
        QCOMPARE(d.w.store->workUnit(u[0])->state, WorkUnitState::Expired);
    }
};

QTEST_GUILESS_MAIN(LeaseDeskTest)
#include "tst_LeaseDesk.moc"
