// Work-unit leasing: expiry and re-issue, exclusive and speculative leases, first valid result wins
// exactly once, hand-back, rejection, and leasing that stops when the escrow is spoken for.
#include "LedgerFixture.h"

#include "base/Error.h"

using namespace raven::ledger;
using namespace raven::ledger::test;

class LeaseBookTest : public QObject {
    Q_OBJECT
private slots:
    void expiredLeasesAreReissued();
    void firstResultWinsExactlyOnce();
    void lateResultAfterExpiryStillCounts();
    void handBackReleasesTheUnit();
    void rejectedResultReissuesTheUnit();
    void leasingStopsWhenTheBudgetIsSpent();
    void onlyQueuedOrRunningJobsLease();
    void leasesSurviveARestart();
};

void LeaseBookTest::expiredLeasesAreReissued() {
    World w;
    const QList<WorkUnitId> u = w.units(3);
    w.fund(10 * kCredit, 10 * kCredit);
    QCOMPARE(w.leases->lease(u[0], w.carol, kT0.addSecs(10), kT0), LeaseOutcome::Granted);
    QCOMPARE(w.leases->lease(u[1], w.dave, kT0.addSecs(20), kT0), LeaseOutcome::Granted);
    QCOMPARE(w.store->workUnit(u[0])->state, WorkUnitState::Leased);
    QCOMPARE(w.store->workUnit(u[0])->leaseHolder, std::optional<ContributorId>(w.carol));
    QCOMPARE(w.store->workUnit(u[0])->leaseDeadline, kT0.addSecs(10));
    QCOMPARE(w.leases->issuable(w.job, 10), QList<WorkUnitId>{u[2]});

    QCOMPARE(w.leases->expireLeases(kT0.addSecs(5)), QList<WorkUnitId>{});
    QCOMPARE(w.leases->expireLeases(kT0.addSecs(15)), QList<WorkUnitId>{u[0]});
    QCOMPARE(w.store->workUnit(u[0])->state, WorkUnitState::Expired);
    QCOMPARE(w.store->workUnit(u[1])->state, WorkUnitState::Leased);
    QCOMPARE(w.leases->issuable(w.job, 10), (QList<WorkUnitId>{u[0], u[2]}));
    QCOMPARE(w.leases->issuable(w.job, 1), QList<WorkUnitId>{u[0]});
    QCOMPARE(w.leases->expireLeases(kT0.addSecs(15)), QList<WorkUnitId>{});  // nothing expires twice

    // Re-issue to dave, who now holds two leases.
    QCOMPARE(w.leases->lease(u[0], w.dave, kT0.addSecs(40), kT0.addSecs(15)), LeaseOutcome::Granted);
    QCOMPARE(w.store->workUnit(u[0])->state, WorkUnitState::Leased);
    QCOMPARE(w.leases->activeLeases(w.dave).size(), 2);
    QCOMPARE(w.leases->activeLeases(w.carol).size(), 0);
    QCOMPARE(w.leases->expireLeases(kT0.addSecs(100)), (QList<WorkUnitId>{u[0], u[1]}));
    QVERIFY(w.leases->activeLeases().isEmpty());
    QVERIFY_THROWS_EXCEPTION(raven::Error, w.leases->lease(u[0], w.carol, kT0, kT0));
    w.expectSound();
}

void LeaseBookTest::firstResultWinsExactlyOnce() {
    World w;
    const QList<WorkUnitId> u = w.units(1, 2.0);
    w.fund(10 * kCredit, 10 * kCredit);
    const ContributorId eve = w.store->addContributor("eve", newSecret(), {}, 1.0, kT0);
    QCOMPARE(w.leases->lease(u[0], w.carol, kT0.addSecs(30), kT0), LeaseOutcome::Granted);
    QCOMPARE(w.leases->lease(u[0], w.dave, kT0.addSecs(30), kT0), LeaseOutcome::AlreadyLeased);
    QCOMPARE(w.leases->lease(u[0], w.carol, kT0.addSecs(60), kT0), LeaseOutcome::Extended);
    QCOMPARE(w.leases->lease(u[0], w.dave, kT0.addSecs(30), kT0, LeaseMode::Speculative), LeaseOutcome::Granted);
    QCOMPARE(w.leases->activeLeases().size(), 2);

    QCOMPARE(w.leases->acceptResult(u[0], eve, kT0).outcome, AcceptOutcome::NotLeased);
    const AcceptResult won = w.leases->acceptResult(u[0], w.dave, kT0.addSecs(20));
    QCOMPARE(won.outcome, AcceptOutcome::Accepted);
    QCOMPARE(won.paid, 2 * kCredit);
    QCOMPARE(won.superseded, QList<ContributorId>{w.carol});
    QCOMPARE(w.leases->acceptResult(u[0], w.carol, kT0.addSecs(25)).outcome, AcceptOutcome::Duplicate);
    QCOMPARE(w.leases->acceptResult(u[0], w.dave, kT0.addSecs(26)).outcome, AcceptOutcome::Duplicate);
    QCOMPARE(w.leases->lease(u[0], eve, kT0.addSecs(90), kT0.addSecs(30)), LeaseOutcome::AlreadyDone);
    QVERIFY(w.leases->activeLeases().isEmpty());

    const WorkUnit unit = *w.store->workUnit(u[0]);
    QCOMPARE(unit.state, WorkUnitState::Done);
    QCOMPARE(unit.acceptedFrom, std::optional<ContributorId>(w.dave));
    QCOMPARE(w.ledger->balance(Account::contributor(w.dave)), 2 * kCredit);
    QCOMPARE(w.ledger->balance(Account::contributor(w.carol)), 0);
    QCOMPARE(w.store->connection()
                 .scalar("SELECT state FROM leases WHERE work_unit = ? AND contributor = ?", {u[0], w.carol})
                 .toString(),
             QString("superseded"));
    w.expectSound();
}

void LeaseBookTest::lateResultAfterExpiryStillCounts() {
    World w;
    const QList<WorkUnitId> u = w.units(1);
    w.fund(10 * kCredit, 10 * kCredit);
    QCOMPARE(w.leases->lease(u[0], w.carol, kT0.addSecs(10), kT0), LeaseOutcome::Granted);
    QCOMPARE(w.leases->expireLeases(kT0.addSecs(11)), QList<WorkUnitId>{u[0]});
    QCOMPARE(w.leases->lease(u[0], w.dave, kT0.addSecs(40), kT0.addSecs(11)), LeaseOutcome::Granted);
    // Carol was late but first: her result counts, dave's lease is superseded.
    const AcceptResult late = w.leases->acceptResult(u[0], w.carol, kT0.addSecs(12));
    QCOMPARE(late.outcome, AcceptOutcome::Accepted);
    QCOMPARE(late.superseded, QList<ContributorId>{w.dave});
    QCOMPARE(w.leases->acceptResult(u[0], w.dave, kT0.addSecs(13)).outcome, AcceptOutcome::Duplicate);
    QCOMPARE(w.ledger->balance(Account::contributor(w.carol)), kCredit);
    QCOMPARE(w.ledger->balance(Account::contributor(w.dave)), 0);
    w.expectSound();
}

void LeaseBookTest::handBackReleasesTheUnit() {
    World w;
    const QList<WorkUnitId> u = w.units(3);
    w.fund(10 * kCredit, 10 * kCredit);
    for (const WorkUnitId id : u) QCOMPARE(w.leases->lease(id, w.carol, kT0.addSecs(30), kT0), LeaseOutcome::Granted);
    QVERIFY(w.leases->handBack(u[0], w.carol, kT0));
    QVERIFY(!w.leases->handBack(u[0], w.carol, kT0));
    QCOMPARE(w.store->workUnit(u[0])->state, WorkUnitState::Pending);
    QCOMPARE(w.leases->acceptResult(u[0], w.carol, kT0).outcome, AcceptOutcome::NotLeased);

    // Carol leaves; a speculative holder keeps u[2] leased.
    QCOMPARE(w.leases->lease(u[2], w.dave, kT0.addSecs(30), kT0, LeaseMode::Speculative), LeaseOutcome::Granted);
    QCOMPARE(w.leases->handBackAll(w.carol, kT0), QList<WorkUnitId>{u[1]});
    QCOMPARE(w.store->workUnit(u[1])->state, WorkUnitState::Pending);
    QCOMPARE(w.store->workUnit(u[2])->state, WorkUnitState::Leased);
    QCOMPARE(w.leases->issuable(w.job, 10), (QList<WorkUnitId>{u[0], u[1]}));
    w.expectSound();
}

void LeaseBookTest::rejectedResultReissuesTheUnit() {
    World w;
    const QList<WorkUnitId> u = w.units(1);
    w.fund(10 * kCredit, 10 * kCredit);
    QVERIFY(!w.leases->rejectResult(u[0], w.carol, "not leased", kT0));
    QCOMPARE(w.leases->lease(u[0], w.carol, kT0.addSecs(30), kT0), LeaseOutcome::Granted);
    QVERIFY(w.leases->rejectResult(u[0], w.carol, "gradient norm is infinite", kT0));
    QCOMPARE(w.store->workUnit(u[0])->state, WorkUnitState::Pending);
    QCOMPARE(w.leases->acceptResult(u[0], w.carol, kT0).outcome, AcceptOutcome::NotLeased);
    QCOMPARE(w.ledger->contributorStats(w.carol, 1, kT0).resultsRejected, 1);
    QCOMPARE(w.leases->lease(u[0], w.dave, kT0.addSecs(30), kT0), LeaseOutcome::Granted);
    QCOMPARE(w.leases->acceptResult(u[0], w.dave, kT0).outcome, AcceptOutcome::Accepted);
    w.expectSound();
}

void LeaseBookTest::leasingStopsWhenTheBudgetIsSpent() {
    World w;
    const QList<WorkUnitId> u = w.units(4);
    w.fund(10 * kCredit, 2 * kCredit + kCredit / 2);
    w.store->setJobState(w.job, JobState::Running, kT0);
    QCOMPARE(w.leases->lease(u[0], w.carol, kT0.addSecs(30), kT0), LeaseOutcome::Granted);
    QCOMPARE(w.leases->lease(u[1], w.dave, kT0.addSecs(30), kT0), LeaseOutcome::Granted);
    // A speculative duplicate reserves nothing more: only one of the two results is paid.
    QCOMPARE(w.leases->lease(u[1], w.carol, kT0.addSecs(30), kT0, LeaseMode::Speculative), LeaseOutcome::Granted);
    QCOMPARE(w.leases->lease(u[2], w.carol, kT0.addSecs(30), kT0), LeaseOutcome::OutOfBudget);
    QCOMPARE(w.store->job(w.job)->state, JobState::OutOfBudget);
    QCOMPARE(w.leases->lease(u[3], w.dave, kT0.addSecs(30), kT0), LeaseOutcome::JobNotLeasable);
    // Every granted lease is still paid.
    QCOMPARE(w.leases->acceptResult(u[0], w.carol, kT0).outcome, AcceptOutcome::Accepted);
    QCOMPARE(w.leases->acceptResult(u[1], w.carol, kT0).outcome, AcceptOutcome::Accepted);
    QCOMPARE(w.leases->acceptResult(u[1], w.dave, kT0).outcome, AcceptOutcome::Duplicate);
    QCOMPARE(w.ledger->balance(Account::job(w.job)), kCredit / 2);
    QCOMPARE(w.ledger->balance(Account::contributor(w.carol)), 2 * kCredit);
    w.expectSound();
}

void LeaseBookTest::onlyQueuedOrRunningJobsLease() {
    World w;
    const QList<WorkUnitId> u = w.units(1);
    w.fund(10 * kCredit, 10 * kCredit);
    w.store->setJobState(w.job, JobState::Paused, kT0);
    QCOMPARE(w.leases->lease(u[0], w.carol, kT0.addSecs(30), kT0), LeaseOutcome::JobNotLeasable);
    w.store->setJobState(w.job, JobState::Running, kT0);
    QCOMPARE(w.leases->lease(u[0], w.carol, kT0.addSecs(30), kT0), LeaseOutcome::Granted);
    w.ledger->endJob(w.job, JobState::Cancelled, kT0);
    QCOMPARE(w.leases->acceptResult(u[0], w.carol, kT0).outcome, AcceptOutcome::JobEnded);
    QCOMPARE(w.ledger->balance(Account::contributor(w.carol)), 0);
    QCOMPARE(w.ledger->balance(Account::requester(w.alice)), 10 * kCredit);
    w.expectSound();
}

void LeaseBookTest::leasesSurviveARestart() {
    World w;
    const QList<WorkUnitId> u = w.units(2);
    w.fund(10 * kCredit, 10 * kCredit);
    QCOMPARE(w.leases->lease(u[0], w.carol, kT0.addSecs(30), kT0), LeaseOutcome::Granted);
    w.open();
    const QList<ActiveLease> active = w.leases->activeLeases();
    QCOMPARE(active.size(), 1);
    QCOMPARE(active[0].workUnit, u[0]);
    QCOMPARE(active[0].job, w.job);
    QCOMPARE(active[0].contributor, w.carol);
    QCOMPARE(active[0].grantedAt, kT0);
    QCOMPARE(active[0].deadline, kT0.addSecs(30));
    QCOMPARE(w.leases->acceptResult(u[0], w.carol, kT0).outcome, AcceptOutcome::Accepted);
    w.expectSound();
}

QTEST_GUILESS_MAIN(LeaseBookTest)
#include "tst_LeaseBook.moc"
