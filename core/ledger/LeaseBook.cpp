#include "ledger/LeaseBook.h"

#include "base/Error.h"
#include "ledger/Transaction.h"

namespace raven::ledger {

namespace {


}  // namespace

LeaseBook::LeaseBook(CoordinatorStore& store, Ledger& ledger)
    : store_(store), ledger_(ledger), sql_(store.connection()) {}

LeaseOutcome LeaseBook::lease(WorkUnitId workUnit, ContributorId contributor, const QDateTime& deadline,
                              const QDateTime& now, LeaseMode mode) {
    RAVEN_CHECK(deadline > now, "lease of work unit " + std::to_string(workUnit) + " with a deadline that has passed",
                "give the lease a deadline after now");
    Transaction tx(sql_);
    const std::optional<WorkUnit> unit = store_.workUnit(workUnit);
    RAVEN_CHECK(unit.has_value(), "lease of work unit " + std::to_string(workUnit) + ", which is unknown",
                "check the work unit id");
    RAVEN_CHECK(store_.contributor(contributor).has_value(),
                "lease of work unit " + std::to_string(workUnit) + " to contributor " + std::to_string(contributor) +
                    ", who is unknown",
                "register the contributor first");
    if (unit->state == WorkUnitState::Done) return LeaseOutcome::AlreadyDone;
    const std::optional<JobState> job = store_.jobState(unit->job);
    RAVEN_ASSERT(job.has_value(), "a work unit's job exists (foreign key)");
    if (*job != JobState::Queued && *job != JobState::Running) return LeaseOutcome::JobNotLeasable;

    SqlRows extended = sql_.query(
        QStringLiteral("UPDATE leases SET deadline = ? WHERE work_unit = ? AND contributor = ? AND state = 'active'"),
        {toSqlTime(deadline), workUnit, contributor});
    if (extended.numRowsAffected() == 1) {
        sql_.query(QStringLiteral("UPDATE work_units SET lease_holder = ?, lease_deadline = ? WHERE id = ?"),
                   {contributor, toSqlTime(deadline), workUnit});
        tx.commit();
        return LeaseOutcome::Extended;
    }
    if (unit->state == WorkUnitState::Leased && mode == LeaseMode::Exclusive) return LeaseOutcome::AlreadyLeased;

    // Units already leased or expired are reserved; a speculative lease reserves nothing more.
    const qint64 reservedFlops =
        sql_.scalar(QStringLiteral("SELECT COALESCE(SUM(flops), 0) FROM work_units "
                                   "WHERE job = ? AND state IN ('leased', 'expired') AND id <> ?"),
                    {unit->job, workUnit})
            .toLongLong();
    if (ledger_.priceOf(reservedFlops + unit->flops) > ledger_.balance(Account::job(unit->job))) {
        sql_.query(QStringLiteral("UPDATE jobs SET state = 'out_of_budget', updated_at = ? WHERE id = ?"),
                   {toSqlTime(now), unit->job});
        tx.commit();
        return LeaseOutcome::OutOfBudget;
    }
    sql_.query(QStringLiteral("INSERT INTO leases (work_unit, contributor, granted_at, deadline, state) "
                              "VALUES (?, ?, ?, ?, 'active')"),
               {workUnit, contributor, toSqlTime(now), toSqlTime(deadline)});
    sql_.query(
        QStringLiteral("UPDATE work_units SET state = 'leased', lease_holder = ?, lease_deadline = ? WHERE id = ?"),
        {contributor, toSqlTime(deadline), workUnit});
    tx.commit();
    return LeaseOutcome::Granted;
}

QList<WorkUnitId> LeaseBook::expireLeases(const QDateTime& now) {
    Transaction tx(sql_);
    sql_.query(
        QStringLiteral("UPDATE leases SET state = 'expired', ended_at = ? WHERE state = 'active' AND deadline <= ?"),
        {toSqlTime(now), toSqlTime(now)});
    QList<WorkUnitId> expired;
    {
        SqlRows q = sql_.query(
            QStringLiteral("SELECT id FROM work_units w WHERE state = 'leased' AND NOT EXISTS "
                           "(SELECT 1 FROM leases l WHERE l.work_unit = w.id AND l.state = 'active') ORDER BY id"));
        while (q.next()) expired << q.value(0).toLongLong();
    }
    for (const WorkUnitId id : expired)
        sql_.query(QStringLiteral("UPDATE work_units SET state = 'expired' WHERE id = ?"), {id});
    tx.commit();
    return expired;
}

bool LeaseBook::releaseIfIdle(WorkUnitId workUnit) {
    SqlRows q = sql_.query(
        QStringLiteral("UPDATE work_units SET state = 'pending' WHERE id = ? AND state = 'leased' AND NOT EXISTS "
                       "(SELECT 1 FROM leases l WHERE l.work_unit = work_units.id AND l.state = 'active')"),
        {workUnit});
    return q.numRowsAffected() == 1;
}

bool LeaseBook::handBack(WorkUnitId workUnit, ContributorId contributor, const QDateTime& now) {
    Transaction tx(sql_);
    SqlRows q = sql_.query(QStringLiteral("UPDATE leases SET state = 'handed_back', ended_at = ? "
                                          "WHERE work_unit = ? AND contributor = ? AND state = 'active'"),
                           {toSqlTime(now), workUnit, contributor});
    if (q.numRowsAffected() == 0) return false;
    releaseIfIdle(workUnit);
    tx.commit();
    return true;
}

QList<WorkUnitId> LeaseBook::handBackAll(ContributorId contributor, const QDateTime& now) {
    Transaction tx(sql_);
    QList<WorkUnitId> held;
    {
        SqlRows q = sql_.query(
            QStringLiteral(
                "SELECT work_unit FROM leases WHERE contributor = ? AND state = 'active' ORDER BY work_unit"),
            {contributor});
        while (q.next()) held << q.value(0).toLongLong();
    }
    sql_.query(QStringLiteral(
                   "UPDATE leases SET state = 'handed_back', ended_at = ? WHERE contributor = ? AND state = 'active'"),
               {toSqlTime(now), contributor});
    QList<WorkUnitId> released;
    for (const WorkUnitId id : held)
        if (releaseIfIdle(id)) released << id;
    tx.commit();
    return released;
}

AcceptResult LeaseBook::acceptResult(WorkUnitId workUnit, ContributorId contributor, const QDateTime& now) {
    Transaction tx(sql_);
    const std::optional<WorkUnit> unit = store_.workUnit(workUnit);
    RAVEN_CHECK(unit.has_value(), "result for work unit " + std::to_string(workUnit) + ", which is unknown",
                "check the work unit id");
    AcceptResult result;
    // The unit's leases in one statement: whether this contributor held one, and who else holds one.
    bool held = false;
    QList<ContributorId> others;
    for (SqlRows q = sql_.query(QStringLiteral("SELECT contributor, state FROM leases WHERE work_unit = ? "
                                               "ORDER BY contributor"),
                                {workUnit});
         q.next();) {
        const ContributorId holder = q.value(0).toLongLong();
        const QString state = q.value(1).toString();
        if (holder == contributor)
            held = held || state == QLatin1String("active") || state == QLatin1String("expired") ||
                   state == QLatin1String("completed") || state == QLatin1String("superseded");
        else if (state == QLatin1String("active") && !others.contains(holder))
            others << holder;
    }
    if (!held) {
        result.outcome = AcceptOutcome::NotLeased;
        return result;
    }
    if (unit->state == WorkUnitState::Done) {
        result.outcome = AcceptOutcome::Duplicate;
        return result;
    }
    const CreditResult credit = ledger_.creditWorkUnit(workUnit, contributor, unit->flops, now);
    switch (credit.outcome) {
        case CreditOutcome::Paid:
            result = {AcceptOutcome::Accepted, credit.amount, others};
            break;
        case CreditOutcome::AlreadyPaid:
            result.outcome = AcceptOutcome::Duplicate;
            break;
        case CreditOutcome::OutOfBudget:
            result.outcome = AcceptOutcome::OutOfBudget;
            break;
        case CreditOutcome::JobEnded:
            result.outcome = AcceptOutcome::JobEnded;
            break;
    }
    tx.commit();
    return result;
}

bool LeaseBook::rejectResult(WorkUnitId workUnit, ContributorId contributor, const QString& reason,
                             const QDateTime& now, bool replayMismatch) {
    Transaction tx(sql_);
    SqlRows q = sql_.query(QStringLiteral("UPDATE leases SET state = 'rejected', ended_at = ? "
                                          "WHERE work_unit = ? AND contributor = ? AND state IN ('active', 'expired')"),
                           {toSqlTime(now), workUnit, contributor});
    if (q.numRowsAffected() == 0) return false;
    sql_.query(QStringLiteral("INSERT INTO rejections (work_unit, contributor, rejected_at, reason, replay_mismatch) "
                              "VALUES (?, ?, ?, ?, ?)"),
               {workUnit, contributor, toSqlTime(now), reason, replayMismatch ? 1 : 0});
    releaseIfIdle(workUnit);
    tx.commit();
    return true;
}

QList<ActiveLease> LeaseBook::activeLeases(std::optional<ContributorId> contributor) const {
    QString sql = QStringLiteral(
        "SELECT l.work_unit, w.job, l.contributor, l.granted_at, l.deadline FROM leases l "
        "JOIN work_units w ON w.id = l.work_unit WHERE l.state = 'active'");
    QVariantList bindings;
    if (contributor) {
        sql += QStringLiteral(" AND l.contributor = ?");
        bindings << *contributor;
    }
    SqlRows q = sql_.query(sql + QStringLiteral(" ORDER BY l.work_unit, l.contributor"), bindings);
    QList<ActiveLease> leases;
    while (q.next())
        leases << ActiveLease{q.value(0).toLongLong(), q.value(1).toLongLong(), q.value(2).toLongLong(),
                              fromSqlTime(q.value(3)), fromSqlTime(q.value(4))};
    return leases;
}

QList<WorkUnitId> LeaseBook::issuable(JobId job, int limit) const {
    SqlRows q = sql_.query(QStringLiteral("SELECT id FROM work_units WHERE job = ? AND state IN ('pending', 'expired') "
                                          "ORDER BY id LIMIT ?"),
                           {job, limit});
    QList<WorkUnitId> ids;
    while (q.next()) ids << q.value(0).toLongLong();
    return ids;
}

}  // namespace raven::ledger
