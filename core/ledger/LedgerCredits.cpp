// Ledger: the credit states. A credit is paid into its contributor's pending account when the result
// is accepted (Ledger.cpp) and settled here, once: confirmed into the contributor's account, or
// revoked back to the job that paid it. Each settlement is an entry of its own (credit_confirm,
// credit_revoke) written in the transaction that changes the credit's state, so the books and the
// states agree on disk at every instant (docs/ledger.md).
#include "ledger/Ledger.h"

#include "base/Error.h"
#include "ledger/Transaction.h"

namespace raven::ledger {

namespace {

const QString kCreditColumns =
    QStringLiteral("work_unit, job, contributor, amount, state, due_at, due_version, settled_at, reason");

UnitCredit creditOf(const QSqlQuery& q) {
    UnitCredit c;
    c.workUnit = q.value(0).toLongLong();
    c.job = q.value(1).toLongLong();
    c.contributor = q.value(2).toLongLong();
    c.amount = q.value(3).toLongLong();
    c.state = creditStateFromString(q.value(4).toString());
    c.dueAt = fromSqlTime(q.value(5));
    c.dueVersion = q.value(6).toLongLong();
    if (!q.value(7).isNull()) c.settledAt = fromSqlTime(q.value(7));
    c.reason = q.value(8).toString();
    return c;
}

}  // namespace

std::optional<UnitCredit> Ledger::credit(WorkUnitId workUnit) const {
    SqlRows q =
        sql_.query(QStringLiteral("SELECT %1 FROM credits WHERE work_unit = ?").arg(kCreditColumns), {workUnit});
    if (!q.next()) return std::nullopt;
    return creditOf(q.row());
}

void Ledger::settle(const UnitCredit& credit, CreditState to, std::optional<RevokeReason> why, const QDateTime& now) {
    RAVEN_ASSERT(credit.state == CreditState::Pending && to != CreditState::Pending, "only a pending credit settles");
    const bool confirm = to == CreditState::Confirmed;
    const QString memo = QStringLiteral("work unit %1%2")
                             .arg(credit.workUnit)
                             .arg(why ? QStringLiteral(": ") + nameOf(*why) : QString());
    const EntryId entry =
        addEntry(confirm ? QStringLiteral("credit_confirm") : QStringLiteral("credit_revoke"), now, credit.job, memo);
    if (credit.amount > 0) {
        Account back = Account::job(credit.job);
        if (!confirm) {
            // An ended job's escrow went back to its requester: so does a credit revoked after it.
            const std::optional<Job> job = store_.job(credit.job);
            RAVEN_ASSERT(job.has_value(), "a credit's job exists (foreign key)");
            if (isTerminal(job->state)) back = Account::requester(job->requester);
        }
        const bool posted = post(entry, {{Account::pending(credit.contributor), -credit.amount},
                                         {confirm ? Account::contributor(credit.contributor) : back, credit.amount}});
        RAVEN_CHECK(posted,
                    "the pending account of contributor " + std::to_string(credit.contributor) +
                        " holds less than its credit for work unit " + std::to_string(credit.workUnit),
                    "the database is inconsistent: stop the coordinator and run its audit");
    }
    const SqlRows q =
        sql_.query(QStringLiteral("UPDATE credits SET state = ?, settled_by = ?, settled_at = ?, reason = ? "
                                  "WHERE work_unit = ? AND state = 'pending'"),
                   {nameOf(to), entry, toSqlTime(now), why ? nameOf(*why) : QStringLiteral(""), credit.workUnit});
    RAVEN_ASSERT(q.numRowsAffected() == 1, "the credit was pending inside this transaction");
}

bool Ledger::confirmCredit(WorkUnitId workUnit, const QDateTime& now) {
    Transaction tx(sql_);
    const std::optional<UnitCredit> c = credit(workUnit);
    if (!c || c->state != CreditState::Pending) return false;
    settle(*c, CreditState::Confirmed, std::nullopt, now);
    tx.commit();
    return true;
}

bool Ledger::revokeCredit(WorkUnitId workUnit, RevokeReason why, const QDateTime& now) {
    Transaction tx(sql_);
    const std::optional<UnitCredit> c = credit(workUnit);
    if (!c || c->state != CreditState::Pending) return false;
    settle(*c, CreditState::Revoked, why, now);
    if (why == RevokeReason::ReplayMismatch)
        sql_.query(
            QStringLiteral("INSERT INTO rejections (work_unit, contributor, rejected_at, reason, replay_mismatch) "
                           "VALUES (?, ?, ?, ?, 1)"),
            {workUnit, c->contributor, toSqlTime(now),
             QStringLiteral("its replay did not match: the credit was revoked")});
    tx.commit();
    return true;
}

QList<UnitCredit> Ledger::pendingCredits(ContributorId contributor) const {
    QList<UnitCredit> pending;
    for (SqlRows q = sql_.query(
             QStringLiteral("SELECT %1 FROM credits WHERE contributor = ? AND state = 'pending' ORDER BY work_unit")
                 .arg(kCreditColumns),
             {contributor});
         q.next();)
        pending << creditOf(q.row());
    return pending;
}

CreditSweep Ledger::revokePendingCredits(ContributorId contributor, RevokeReason why, const QDateTime& now) {
    Transaction tx(sql_);
    CreditSweep sweep;
    for (const UnitCredit& c : pendingCredits(contributor)) {
        settle(c, CreditState::Revoked, why, now);
        ++sweep.credits;
        sweep.amount += c.amount;
    }
    tx.commit();
    return sweep;
}

CreditSweep Ledger::confirmDueCredits(const QDateTime& now) {
    // Called on every tick of the coordinator's event loop: most ticks find nothing due, and those
    // should not take the database's write lock (BEGIN IMMEDIATE) only to commit nothing.
    if (!sql_.query(QStringLiteral("SELECT 1 FROM credits WHERE state = 'pending' AND due_at <= ? LIMIT 1"),
                    {toSqlTime(now)})
             .next())
        return {};
    Transaction tx(sql_);
    QList<UnitCredit> due;
    for (SqlRows q = sql_.query(
             QStringLiteral("SELECT %1 FROM credits c WHERE c.state = 'pending' AND c.due_at <= ? "
                            "AND EXISTS (SELECT 1 FROM jobs j WHERE j.id = c.job "
                            "            AND (j.model_version >= c.due_version OR j.state IN ('done', 'cancelled'))) "
                            "AND NOT EXISTS (SELECT 1 FROM contributor_trust t WHERE t.contributor = c.contributor "
                            "                AND t.quarantined_at IS NOT NULL) "
                            "ORDER BY c.work_unit")
                 .arg(QStringLiteral("c.work_unit, c.job, c.contributor, c.amount, c.state, c.due_at, "
                                     "c.due_version, c.settled_at, c.reason")),
             {toSqlTime(now)});
         q.next();)
        due << creditOf(q.row());
    CreditSweep sweep;
    for (const UnitCredit& c : due) {
        settle(c, CreditState::Confirmed, std::nullopt, now);
        ++sweep.credits;
        sweep.amount += c.amount;
    }
    tx.commit();
    return sweep;
}

}  // namespace raven::ledger
