// Credit states (schema version 3), on a store file on disk: an accepted unit's credit is pending
// in its contributor's pending account; a matching replay or its verification window confirms it;
// a replay mismatch, a quarantine (every pending credit of the contributor) or an outlier verdict
// revokes it back to the job (to the requester once the job has ended). Double entry holds
// throughout, a v2 file's credits survive the migration as confirmed, and the audit catches a
// credit whose rows were tampered with.
#include "LedgerFixture.h"

#include <QElapsedTimer>

#include <set>

#include "base/Error.h"
#include "ledger/Schema.h"
#include "ledger/Transaction.h"
#include "ledger/TrustBook.h"

using namespace raven;
using namespace raven::ledger;
using namespace raven::ledger::test;

namespace {

// Ten minutes and two steps: the credit is due once both have passed.
const CreditWindow kWindow{600, 2};

// Leases the unit to the contributor and accepts its result at `at`.
MicroCredits accept(World& w, WorkUnitId unit, ContributorId contributor, const QDateTime& at = kT0) {
    RAVEN_ASSERT(w.leases->lease(unit, contributor, at.addSecs(60), at) == LeaseOutcome::Granted, "lease granted");
    const AcceptResult r = w.leases->acceptResult(unit, contributor, at);
    RAVEN_ASSERT(r.outcome == AcceptOutcome::Accepted, "result accepted");
    return r.paid;
}

CreditState stateOf(const World& w, WorkUnitId unit) { return w.ledger->credit(unit).value().state; }

}  // namespace

class CreditStatesTest : public QObject {
    Q_OBJECT
private slots:
    void anAcceptedCreditIsPending() {
        World w(kWindow);
        const QList<WorkUnitId> u = w.units(2, 2.0);
        w.fund(10 * kCredit, 10 * kCredit);
        QCOMPARE(accept(w, u[0], w.carol), 2 * kCredit);
        const UnitCredit c = w.ledger->credit(u[0]).value();
        QCOMPARE(c.state, CreditState::Pending);
        QCOMPARE(c.contributor, w.carol);
        QCOMPARE(c.amount, 2 * kCredit);
        QCOMPARE(c.dueAt, kT0.addSecs(600));
        QCOMPARE(c.dueVersion, 2);
        QVERIFY(!w.ledger->credit(u[1]));
        // Held, not spendable: the contributor's account is untouched, the job's escrow paid.
        QCOMPARE(w.ledger->balance(Account::contributor(w.carol)), 0);
        QCOMPARE(w.ledger->balance(Account::pending(w.carol)), 2 * kCredit);
        QCOMPARE(w.ledger->balance(Account::job(w.job)), 8 * kCredit);
        const ContributorStats stats = w.ledger->contributorStats(w.carol, 1, kT0);
        QCOMPARE(stats.earned, 0);
        QCOMPARE(stats.pending, 2 * kCredit);
        QCOMPARE(stats.revoked, 0);
        QCOMPARE(stats.perDay.last().amount, 2 * kCredit);  // earned that day, pending or not
        const JobSpend spend = w.ledger->jobSpend(w.job);
        QCOMPARE(spend.paid, 2 * kCredit);
        QCOMPARE(spend.pending, 2 * kCredit);
        QCOMPARE(spend.escrow, 8 * kCredit);
        w.expectSound();
    }

    void theWindowConfirmsOnceTimeAndStepsHavePassed() {
        World w(kWindow);
        const QList<WorkUnitId> u = w.units(2);
        w.fund(10 * kCredit, 10 * kCredit);
        accept(w, u[0], w.carol);
        accept(w, u[1], w.dave, kT0.addSecs(300));
        w.store->setJobModelVersion(w.job, 5, kT0);
        QCOMPARE(w.ledger->confirmDueCredits(kT0.addSecs(599)).credits, 0);  // steps passed, time not
        w.store->setJobModelVersion(w.job, 1, kT0);
        QCOMPARE(w.ledger->confirmDueCredits(kT0.addSecs(3600)).credits, 0);  // time passed, steps not
        w.store->setJobModelVersion(w.job, 2, kT0);
        w.open();  // the state is on disk only: a restart changes nothing
        const CreditSweep first = w.ledger->confirmDueCredits(kT0.addSecs(600));
        QCOMPARE(first.credits, 1);
        QCOMPARE(first.amount, kCredit);
        QCOMPARE(stateOf(w, u[0]), CreditState::Confirmed);
        QCOMPARE(stateOf(w, u[1]), CreditState::Pending);
        QCOMPARE(w.ledger->credit(u[0])->settledAt, kT0.addSecs(600));
        QCOMPARE(w.ledger->balance(Account::contributor(w.carol)), kCredit);
        QCOMPARE(w.ledger->balance(Account::pending(w.carol)), 0);
        QCOMPARE(w.ledger->confirmDueCredits(kT0.addSecs(600)).credits, 0);  // once only
        // A job that ended takes no more steps: its credits are due on time alone.
        w.ledger->endJob(w.job, JobState::Done, kT0.addSecs(700));
        w.store->connection().exec("UPDATE jobs SET model_version = 0 WHERE id = ?", {w.job});
        QCOMPARE(w.ledger->confirmDueCredits(kT0.addSecs(899)).credits, 0);
        QCOMPARE(w.ledger->confirmDueCredits(kT0.addSecs(900)).credits, 1);
        QCOMPARE(w.ledger->contributorStats(w.dave, 1, kT0).earned, kCredit);
        w.expectSound();
    }

    void aMatchingReplayConfirmsAtOnce() {
        World w(kWindow);
        const QList<WorkUnitId> u = w.units(1, 3.0);
        w.fund(10 * kCredit, 10 * kCredit);
        accept(w, u[0], w.carol);
        QVERIFY(w.ledger->confirmCredit(u[0], kT0.addSecs(1)));
        QCOMPARE(stateOf(w, u[0]), CreditState::Confirmed);
        QCOMPARE(w.ledger->balance(Account::contributor(w.carol)), 3 * kCredit);
        QVERIFY(!w.ledger->confirmCredit(u[0], kT0.addSecs(2)));                        // final
        QVERIFY(!w.ledger->revokeCredit(u[0], RevokeReason::Outlier, kT0.addSecs(3)));  // a confirmed credit stays paid
        QCOMPARE(stateOf(w, u[0]), CreditState::Confirmed);
        // The database itself refuses to change a settled credit.
        QVERIFY_THROWS_EXCEPTION(raven::Error, w.store->connection().exec(
                                                   "UPDATE credits SET state = 'revoked' WHERE work_unit = ?", {u[0]}));
        w.expectSound();
    }

    void aZeroWindowConfirmsAsItPays() {
        World w(CreditWindow::none());
        const QList<WorkUnitId> u = w.units(1);
        w.fund(10 * kCredit, 10 * kCredit);
        accept(w, u[0], w.carol);
        QCOMPARE(stateOf(w, u[0]), CreditState::Confirmed);
        QCOMPARE(w.ledger->balance(Account::contributor(w.carol)), kCredit);
        QCOMPARE(w.ledger->balance(Account::pending(w.carol)), 0);
        w.expectSound();
    }

    void aReplayMismatchRevokesTheCredit() {
        World w(kWindow);
        const QList<WorkUnitId> u = w.units(2);
        w.fund(10 * kCredit, 10 * kCredit);
        accept(w, u[0], w.carol);
        accept(w, u[1], w.carol);
        QVERIFY(w.ledger->revokeCredit(u[0], RevokeReason::ReplayMismatch, kT0.addSecs(5)));
        const UnitCredit c = w.ledger->credit(u[0]).value();
        QCOMPARE(c.state, CreditState::Revoked);
        QCOMPARE(c.reason, QStringLiteral("replay_mismatch"));
        QVERIFY(!w.ledger->revokeCredit(u[0], RevokeReason::ReplayMismatch, kT0.addSecs(6)));  // once
        QCOMPARE(w.store->connection()
                     .scalar("SELECT COUNT(*) FROM rejections WHERE work_unit = ? AND contributor = ? "
                             "AND replay_mismatch = 1",
                             {u[0], w.carol})
                     .toLongLong(),
                 1);
        // Back into the escrow: the requester does not pay for wrong work.
        QCOMPARE(w.ledger->balance(Account::job(w.job)), 9 * kCredit);
        QCOMPARE(w.ledger->balance(Account::pending(w.carol)), kCredit);
        const ContributorStats stats = w.ledger->contributorStats(w.carol, 1, kT0);
        QCOMPARE(stats.pending, kCredit);
        QCOMPARE(stats.revoked, kCredit);
        QCOMPARE(stats.earned, 0);
        QCOMPARE(stats.perDay.last().amount, kCredit);
        const JobSpend spend = w.ledger->jobSpend(w.job);
        QCOMPARE(spend.paid, kCredit);
        QCOMPARE(spend.revoked, kCredit);
        QCOMPARE(spend.escrow, 9 * kCredit);
        // The window never confirms a revoked credit.
        w.store->setJobModelVersion(w.job, 10, kT0);
        QCOMPARE(w.ledger->confirmDueCredits(kT0.addDays(1)).credits, 1);
        QCOMPARE(stateOf(w, u[0]), CreditState::Revoked);
        w.expectSound();
    }

    void aQuarantineRevokesEveryPendingCreditOfTheContributor() {
        World w(kWindow);
        const JobId second =
            w.store->addJob({w.alice, "cnn", mlpSpec(), QJsonObject{{"lr", 0.1}}, QString(64, QLatin1Char('b'))}, kT0);
        const QList<WorkUnitId> u = w.units(4);
        const QList<WorkUnitId> v = w.store->addWorkUnits(second, 0, {{{QString(64, QLatin1Char('c'))}, kTeraflop}});
        w.ledger->deposit(w.alice, 20 * kCredit, kT0);
        w.ledger->fundJob(w.job, 10 * kCredit, kT0);
        w.ledger->fundJob(second, 10 * kCredit, kT0);
        accept(w, u[0], w.carol);
        QVERIFY(w.ledger->confirmCredit(u[0], kT0));  // verified earlier: stays paid
        accept(w, u[1], w.carol);
        accept(w, u[2], w.carol);
        accept(w, u[3], w.dave);
        accept(w, v[0], w.carol);

        TrustBook(*w.store).recordQuarantine(w.carol, "work unit 99 replayed: its digest differs", kT0.addSecs(10));
        // The sweep never pays a quarantined contributor, and the audit flags its pending credits.
        w.store->setJobModelVersion(w.job, 5, kT0);
        w.store->setJobModelVersion(second, 5, kT0);
        QCOMPARE(w.ledger->confirmDueCredits(kT0.addDays(1)).credits, 1);  // dave's only
        QCOMPARE(stateOf(w, u[3]), CreditState::Confirmed);
        const AuditReport flagged = w.ledger->audit();
        QCOMPARE(flagged.problems.size(), 1);
        QVERIFY2(flagged.problems[0].contains("quarantined but still has 3 pending credits"),
                 qPrintable(flagged.problems[0]));

        const CreditSweep revoked = w.ledger->revokePendingCredits(w.carol, RevokeReason::Quarantined, kT0.addDays(1));
        QCOMPARE(revoked.credits, 3);
        QCOMPARE(revoked.amount, 3 * kCredit);
        for (const WorkUnitId unit : {u[1], u[2], v[0]}) {
            QCOMPARE(stateOf(w, unit), CreditState::Revoked);
            QCOMPARE(w.ledger->credit(unit)->reason, QStringLiteral("quarantined"));
        }
        QCOMPARE(stateOf(w, u[0]), CreditState::Confirmed);
        QCOMPARE(w.ledger->balance(Account::contributor(w.carol)), kCredit);
        QCOMPARE(w.ledger->balance(Account::pending(w.carol)), 0);
        QCOMPARE(w.ledger->balance(Account::job(w.job)), 10 * kCredit - 2 * kCredit);  // u[0] and dave's u[3] paid
        QCOMPARE(w.ledger->balance(Account::job(second)), 10 * kCredit);
        QCOMPARE(w.ledger->revokePendingCredits(w.carol, RevokeReason::Quarantined, kT0.addDays(2)).credits, 0);
        w.expectSound();
    }

    // What the rewind archive is kept by (RewindArchive.h): the lowest version with a pending credit,
    // and a contributor's pending credits, each named, so that their results can be replayed before
    // a quarantine revokes them.
    void theEarliestPendingVersionFollowsTheCredits() {
        World w(kWindow);
        w.fund(10 * kCredit, 10 * kCredit);
        QVERIFY(!w.ledger->earliestPendingVersion(w.job));
        const QList<WorkUnitId> first = w.units(2);
        const QList<WorkUnitId> later =
            w.store->addWorkUnits(w.job, 3, {NewWorkUnit{{QString(64, QLatin1Char('a'))}, kTeraflop}});
        accept(w, later[0], w.carol);
        QCOMPARE(w.ledger->earliestPendingVersion(w.job), std::optional<qint64>(3));
        accept(w, first[0], w.carol);
        accept(w, first[1], w.dave);
        QCOMPARE(w.ledger->earliestPendingVersion(w.job), std::optional<qint64>(0));
        QVERIFY(w.ledger->confirmCredit(first[1], kT0));  // a matching replay: final
        const QList<UnitCredit> suspects = w.ledger->pendingCredits(w.carol);
        QCOMPARE(suspects.size(), 2);
        QCOMPARE(suspects[0].workUnit, first[0]);
        QCOMPARE(suspects[1].workUnit, later[0]);
        QCOMPARE(suspects[0].job, w.job);
        QCOMPARE(suspects[0].state, CreditState::Pending);
        QCOMPARE(w.ledger->pendingCredits(w.dave).size(), 0);  // its only credit is final
        const CreditSweep revoked = w.ledger->revokePendingCredits(w.carol, RevokeReason::Quarantined, kT0);
        QCOMPARE(revoked.credits, 2);
        QVERIFY(w.ledger->pendingCredits(w.carol).isEmpty());
        QVERIFY(!w.ledger->earliestPendingVersion(w.job));  // every credit is final: nothing to keep
        w.expectSound();
    }

    // A quarantine's suspects (Engine::noteRewindsDue, on the event loop) come from the contributor's
    // pending credits, which the window bounds, not from a scan of every done unit of its jobs, which
    // grows with the job. Both ways find the same units; the figures print side by side
    // (RAVEN_BENCH_DONE_UNITS=100000 for docs/benchmarks.md; the default keeps the suite quick).
    void aQuarantinesSuspectsComeFromItsPendingCredits() {
        const int doneUnits = qEnvironmentVariableIntValue("RAVEN_BENCH_DONE_UNITS") > 0
                                  ? qEnvironmentVariableIntValue("RAVEN_BENCH_DONE_UNITS")
                                  : 400;
        constexpr int kPerStep = 4;  // carol computes one unit of each step, dave the others
        const qint64 steps = doneUnits / kPerStep;
        const CreditWindow window{600, 3};  // the default: a credit pending until 3 steps later
        World w(window);
        w.fund(qint64(doneUnits) * kCredit, qint64(doneUnits) * kCredit);
        {
            Transaction tx(w.store->connection());  // the setup in one commit: the suite stays quick
            for (qint64 v = 0; v < steps; ++v) {
                const QList<WorkUnitId> u = w.store->addWorkUnits(
                    w.job, v, QList<NewWorkUnit>(kPerStep, NewWorkUnit{{QString(64, QLatin1Char('a'))}, kTeraflop}));
                for (int i = 0; i < kPerStep; ++i) accept(w, u[i], i == 0 ? w.carol : w.dave);
            }
            tx.commit();
        }
        w.store->setJobModelVersion(w.job, steps, kT0);
        w.ledger->confirmDueCredits(kT0.addDays(1));  // all but the last steps' credits are final
        const qint64 firstPending = w.ledger->earliestPendingVersion(w.job).value();
        QVERIFY(firstPending >= steps - window.steps);

        QElapsedTimer clock;
        clock.start();
        std::set<WorkUnitId> scanned;  // as noteRewindsDue found them before: every done unit of the job
        for (const WorkUnit& unit : w.store->workUnits(w.job, std::nullopt, WorkUnitState::Done)) {
            if (unit.modelVersion < firstPending || unit.acceptedFrom != w.carol) continue;
            const std::optional<UnitCredit> c = w.ledger->credit(unit.id);
            if (c && c->state == CreditState::Pending) scanned.insert(unit.id);
        }
        const double scanMs = double(clock.nsecsElapsed()) / 1e6;
        clock.restart();
        std::set<WorkUnitId> named;  // as it finds them now: the pending credits, one unit read each
        for (const UnitCredit& c : w.ledger->pendingCredits(w.carol)) {
            const std::optional<WorkUnit> unit = w.store->workUnit(c.workUnit);
            if (unit && unit->modelVersion >= firstPending) named.insert(unit->id);
        }
        const double creditsMs = double(clock.nsecsElapsed()) / 1e6;
        qInfo(
            "%d done units, carol's %zu pending: from its pending credits %.3f ms, scanning the job's done units "
            "%.3f ms (before)",
            doneUnits, named.size(), creditsMs, scanMs);
        QCOMPARE(named.size(), std::size_t(steps - firstPending));  // one per step still pending
        QCOMPARE(named, scanned);
        clock.restart();
        w.expectSound();  // the audit every coordinator start runs: its credit check read postings by entry
        qInfo("the ledger's audit of %d credits: %.0f ms", doneUnits, double(clock.nsecsElapsed()) / 1e6);
    }

    void anOutlierRevokedAfterTheJobEndedGoesToTheRequester() {
        World w(kWindow);
        const QList<WorkUnitId> u = w.units(2, 2.0);
        w.fund(10 * kCredit, 6 * kCredit);
        accept(w, u[0], w.carol);
        accept(w, u[1], w.dave);
        QVERIFY(w.ledger->revokeCredit(u[1], RevokeReason::Outlier, kT0.addSecs(1)));  // back into the escrow
        QCOMPARE(w.ledger->balance(Account::job(w.job)), 4 * kCredit);
        QCOMPARE(w.ledger->endJob(w.job, JobState::Done, kT0.addSecs(2)), 4 * kCredit);
        QVERIFY(w.ledger->revokeCredit(u[0], RevokeReason::Outlier, kT0.addSecs(3)));  // to alice herself
        QCOMPARE(w.ledger->credit(u[0])->reason, QStringLiteral("outlier"));
        QCOMPARE(w.ledger->balance(Account::job(w.job)), 0);
        QCOMPARE(w.ledger->balance(Account::requester(w.alice)), 10 * kCredit);
        const JobSpend spend = w.ledger->jobSpend(w.job);
        QCOMPARE(spend.funded, 6 * kCredit);
        QCOMPARE(spend.paid, 0);
        QCOMPARE(spend.revoked, 4 * kCredit);
        QCOMPARE(spend.refunded, 6 * kCredit);
        QCOMPARE(spend.funded, spend.paid + spend.refunded + spend.escrow);
        w.expectSound();
    }

    void moneyIsNeverCreatedNorLost() {
        World w(kWindow);
        const QList<WorkUnitId> u = w.units(6);
        w.fund(20 * kCredit, 10 * kCredit);
        for (int i = 0; i < 6; ++i) accept(w, u[i], i % 2 ? w.dave : w.carol);
        w.ledger->confirmCredit(u[0], kT0);
        w.ledger->revokeCredit(u[1], RevokeReason::Outlier, kT0);
        w.ledger->revokeCredit(u[2], RevokeReason::ReplayMismatch, kT0);
        w.store->setJobModelVersion(w.job, 2, kT0);
        w.ledger->confirmDueCredits(kT0.addSecs(600));  // u[3], u[4], u[5]
        QCOMPARE(w.ledger->balance(Account::mint()), -20 * kCredit);
        const MicroCredits held =
            w.ledger->balance(Account::requester(w.alice)) + w.ledger->balance(Account::job(w.job)) +
            w.ledger->balance(Account::pending(w.carol)) + w.ledger->balance(Account::pending(w.dave)) +
            w.ledger->balance(Account::contributor(w.carol)) + w.ledger->balance(Account::contributor(w.dave));
        QCOMPARE(held, 20 * kCredit);
        QCOMPARE(w.ledger->balance(Account::contributor(w.carol)), 2 * kCredit);  // u[0], u[4]
        QCOMPARE(w.ledger->balance(Account::contributor(w.dave)), 2 * kCredit);   // u[3], u[5]
        QCOMPARE(w.ledger->balance(Account::job(w.job)), 6 * kCredit);
        // Each settlement is one balanced entry: two postings summing to zero.
        QCOMPARE(w.store->connection()
                     .scalar("SELECT COUNT(*) FROM postings p JOIN entries e ON e.id = p.entry "
                             "WHERE e.kind IN ('credit_confirm', 'credit_revoke')")
                     .toLongLong(),
                 12);
        w.expectSound();
    }

    void aVersion2FileKeepsItsCreditsAsConfirmed() {
        QTemporaryDir dir;
        const QString path = dir.filePath("v2.sqlite");
        {
            // A coordinator of schema version 2 paid two units and refunded nothing yet.
            SqlConnection sql(path);
            sql.exec(
                "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
                "applied_at INTEGER NOT NULL)");
            for (const Migration& m : schemaMigrations()) {
                if (m.version > 2) break;
                for (const QString& statement : m.statements) sql.exec(statement);
                sql.exec("INSERT INTO schema_version VALUES (?, ?, 0)", {m.version, m.description});
            }
            sql.exec("INSERT INTO requesters VALUES (1, 'alice', 'k', 0)");
            sql.exec("INSERT INTO contributors (id, name, token_hash, registered_at) VALUES (7, 'carol', 't', 0)");
            sql.exec(
                "INSERT INTO jobs (id, requester, spec, hyperparameters, dataset, budget, state, created_at, "
                "updated_at) VALUES (3, 1, '{}', '{}', 'd', 5000000, 'running', 0, 0)");
            sql.exec(
                "INSERT INTO work_units (id, job, model_version, shard_hashes, flops, state, accepted_at, "
                "accepted_from) VALUES (11, 3, 0, '[]', 1000000000000, 'done', 5, 7), "
                "(12, 3, 0, '[]', 2000000000000, 'done', 6, 7), (13, 3, 1, '[]', 1000000000000, 'pending', "
                "NULL, NULL)");
            sql.exec(
                "INSERT INTO accounts (id, kind, owner, balance) VALUES (2, 'requester', 1, 5000000), "
                "(3, 'job', 3, 2000000), (4, 'contributor', 7, 3000000)");
            sql.exec("UPDATE accounts SET balance = -10000000 WHERE kind = 'mint'");
            sql.exec(
                "INSERT INTO entries (id, kind, created_at, job, work_unit, flops) VALUES "
                "(21, 'deposit', 1, NULL, NULL, NULL), (22, 'fund_job', 2, 3, NULL, NULL), "
                "(23, 'work_unit_credit', 5, 3, 11, 1000000000000), "
                "(24, 'work_unit_credit', 6, 3, 12, 2000000000000)");
            sql.exec(
                "INSERT INTO postings (id, entry, account, amount) VALUES "
                "(31, 21, 1, -10000000), (32, 21, 2, 10000000), (33, 22, 2, -5000000), (34, 22, 3, 5000000), "
                "(35, 23, 3, -1000000), (36, 23, 4, 1000000), (37, 24, 3, -2000000), (38, 24, 4, 2000000)");
            sql.exec(
                "INSERT INTO rejections (id, work_unit, contributor, rejected_at, reason) VALUES "
                "(41, 12, 7, 4, 'malformed')");
        }
        CoordinatorStore store(path);
        QCOMPARE(store.schemaVersion(), latestSchemaVersion());
        Ledger ledger(store, CreditRate{kCredit}, kWindow);
        const AuditReport audit = ledger.audit();
        QVERIFY2(audit.ok(), qPrintable(audit.problems.join('\n')));
        QCOMPARE(audit.entries, 4);
        QCOMPARE(audit.postings, 8);
        QCOMPARE(ledger.credit(11)->state, CreditState::Confirmed);
        QCOMPARE(ledger.credit(11)->amount, kCredit);
        QCOMPARE(ledger.credit(12)->amount, 2 * kCredit);
        QCOMPARE(ledger.balance(Account::contributor(7)), 3 * kCredit);
        QCOMPARE(ledger.contributorStats(7, 1, kT0).pending, 0);
        QCOMPARE(ledger.jobSpend(3).paid, 3 * kCredit);
        // Every row kept its id, and the rebuilt tables keep their guards.
        QCOMPARE(store.connection().scalar("SELECT kind FROM entries WHERE id = 24").toString(),
                 QStringLiteral("work_unit_credit"));
        QCOMPARE(store.connection().scalar("SELECT kind FROM accounts WHERE id = 4").toString(),
                 QStringLiteral("contributor"));
        QCOMPARE(store.connection().scalar("SELECT replay_mismatch FROM rejections WHERE id = 41").toLongLong(), 0);
        QVERIFY_THROWS_EXCEPTION(raven::Error, store.connection().exec("DELETE FROM entries WHERE id = 21"));
        QVERIFY_THROWS_EXCEPTION(raven::Error, store.connection().exec("DELETE FROM accounts WHERE id = 2"));
        QCOMPARE(store.connection().scalar("PRAGMA foreign_keys").toLongLong(), 1);
        // And the new credits work on the migrated file.
        QCOMPARE(LeaseBook(store, ledger).lease(13, 7, kT0.addSecs(60), kT0), LeaseOutcome::Granted);
        QCOMPARE(LeaseBook(store, ledger).acceptResult(13, 7, kT0).outcome, AcceptOutcome::Accepted);
        QCOMPARE(ledger.credit(13)->state, CreditState::Pending);
        QVERIFY(ledger.audit().ok());
    }

    void theAuditCatchesTamperedCredits() {
        World w(kWindow);
        const QList<WorkUnitId> u = w.units(3);
        w.fund(10 * kCredit, 10 * kCredit);
        accept(w, u[0], w.carol);
        accept(w, u[1], w.carol);
        accept(w, u[2], w.dave);
        QVERIFY(w.ledger->confirmCredit(u[1], kT0));
        w.expectSound();
        SqlConnection& sql = w.store->connection();
        // A pending credit marked confirmed without its entry: the money never left the pending account.
        sql.exec("UPDATE credits SET state = 'confirmed', settled_at = 1 WHERE work_unit = ?", {u[0]});
        AuditReport report = w.ledger->audit();
        QVERIFY(!report.ok());
        QVERIFY2(report.problems.join('\n').contains(QStringLiteral("the credit of work unit %1").arg(u[0])),
                 qPrintable(report.problems.join('\n')));
        QVERIFY2(report.problems.join('\n').contains("pending account holds"), qPrintable(report.problems.join('\n')));
        QVERIFY2(report.problems.join('\n').contains("confirmed credits sum to"),
                 qPrintable(report.problems.join('\n')));
        // A confirmed credit for a result whose replay mismatched.
        sql.exec(
            "INSERT INTO rejections (work_unit, contributor, rejected_at, reason, replay_mismatch) "
            "VALUES (?, ?, 0, 'replay differs', 1)",
            {u[1], w.carol});
        report = w.ledger->audit();
        QVERIFY2(
            report.problems.join('\n').contains(
                QStringLiteral("work unit %1's credit is confirmed although contributor %2").arg(u[1]).arg(w.carol)),
            qPrintable(report.problems.join('\n')));
        // A credit row missing: its payment entry has none.
        sql.exec("DROP TRIGGER credits_keep");
        sql.exec("DELETE FROM credits WHERE work_unit = ?", {u[2]});
        report = w.ledger->audit();
        QVERIFY2(report.problems.join('\n').contains("has 0 credit rows instead of 1"),
                 qPrintable(report.problems.join('\n')));
    }
};

QTEST_GUILESS_MAIN(CreditStatesTest)
#include "tst_CreditStates.moc"
