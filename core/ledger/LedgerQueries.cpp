// Ledger queries: balances, contributor statistics, job spend. Read-only; each is a few indexed
// SELECTs, cheap enough to answer a protocol request directly.
#include "ledger/Ledger.h"

#include "base/Error.h"

namespace raven::ledger {

MicroCredits Ledger::balance(const Account& account) const {
    return sql_
        .scalar(QStringLiteral("SELECT balance FROM accounts WHERE kind = ? AND owner = ?"),
                {nameOf(account.kind), account.owner})
        .toLongLong();  // an invalid QVariant (no row) reads as 0
}

ContributorStats Ledger::contributorStats(ContributorId contributor, int days, const QDateTime& now) const {
    RAVEN_CHECK(days >= 1 && days <= 3660, "contributor statistics for " + std::to_string(days) + " days",
                "ask for 1 to 3660 days");
    ContributorStats stats;
    {
        QSqlQuery q = sql_.exec(QStringLiteral("SELECT COUNT(*), COALESCE(SUM(e.flops), 0) FROM work_units w "
                                               "JOIN entries e ON e.work_unit = w.id WHERE w.accepted_from = ?"),
                                {contributor});
        if (q.next()) {
            stats.workUnitsAccepted = q.value(0).toLongLong();
            stats.flopsAccepted = q.value(1).toLongLong();
        }
    }
    stats.resultsRejected =
        sql_.scalar(QStringLiteral("SELECT COUNT(*) FROM rejections WHERE contributor = ?"), {contributor})
            .toLongLong();
    stats.earned = balance(Account::contributor(contributor));
    stats.pending = balance(Account::pending(contributor));
    stats.revoked = sql_.scalar(QStringLiteral("SELECT COALESCE(SUM(amount), 0) FROM credits "
                                               "WHERE contributor = ? AND state = 'revoked'"),
                                {contributor})
                        .toLongLong();

    const QDate today = now.toUTC().date();
    const QDate first = today.addDays(-(days - 1));
    for (QDate day = first; day <= today; day = day.addDays(1)) stats.perDay << DailyCredits{day, 0};
    const qint64 from = first.startOfDay(Qt::UTC).toMSecsSinceEpoch();
    const qint64 until = today.addDays(1).startOfDay(Qt::UTC).toMSecsSinceEpoch();
    // A day's credits: those accepted that day and not revoked, pending or confirmed.
    QSqlQuery q =
        sql_.exec(QStringLiteral("SELECT e.created_at, c.amount FROM credits c JOIN entries e ON e.id = c.entry "
                                 "WHERE c.contributor = ? AND c.state <> 'revoked' "
                                 "AND e.created_at >= ? AND e.created_at < ?"),
                  {contributor, from, until});
    while (q.next()) {
        const QDate day = fromSqlTime(q.value(0)).date();
        stats.perDay[static_cast<qsizetype>(first.daysTo(day))].amount += q.value(1).toLongLong();
    }
    QSqlQuery units = sql_.exec(QStringLiteral("SELECT accepted_at FROM work_units "
                                               "WHERE accepted_from = ? AND accepted_at >= ? AND accepted_at < ?"),
                                {contributor, from, until});
    while (units.next()) {
        const QDate day = fromSqlTime(units.value(0)).date();
        ++stats.perDay[static_cast<qsizetype>(first.daysTo(day))].workUnits;
    }
    return stats;
}

std::pair<MicroCredits, MicroCredits> Ledger::requesterCredits(RequesterId requester) const {
    QSqlQuery q = sql_.exec(QStringLiteral("SELECT COALESCE(SUM(CASE WHEN c.state = 'pending' THEN c.amount END), 0), "
                                           "COALESCE(SUM(CASE WHEN c.state = 'revoked' THEN c.amount END), 0) "
                                           "FROM credits c JOIN jobs j ON j.id = c.job WHERE j.requester = ?"),
                            {requester});
    if (!q.next()) return {0, 0};
    return {q.value(0).toLongLong(), q.value(1).toLongLong()};
}

std::optional<qint64> Ledger::earliestPendingVersion(JobId job) const {
    QSqlQuery q = sql_.exec(QStringLiteral("SELECT MIN(w.model_version) FROM credits c JOIN work_units w ON w.id = "
                                           "c.work_unit WHERE c.job = ? AND c.state = 'pending'"),
                            {job});
    if (!q.next() || q.value(0).isNull()) return std::nullopt;
    return q.value(0).toLongLong();
}

JobSpend Ledger::jobSpend(JobId job) const {
    JobSpend spend;
    QSqlQuery q = sql_.exec(QStringLiteral("SELECT e.kind, COALESCE(SUM(p.amount), 0) FROM postings p "
                                           "JOIN accounts a ON a.id = p.account JOIN entries e ON e.id = p.entry "
                                           "WHERE a.kind = 'job' AND a.owner = ? GROUP BY e.kind"),
                            {job});
    while (q.next()) {
        const QString kind = q.value(0).toString();
        const MicroCredits sum = q.value(1).toLongLong();
        if (kind == QLatin1String("fund_job"))
            spend.funded = sum;
        else if (kind == QLatin1String("refund"))
            spend.refunded = -sum;
    }
    QSqlQuery credits =
        sql_.exec(QStringLiteral("SELECT state, SUM(amount) FROM credits WHERE job = ? GROUP BY state"), {job});
    while (credits.next()) {
        const CreditState state = creditStateFromString(credits.value(0).toString());
        const MicroCredits sum = credits.value(1).toLongLong();
        if (state == CreditState::Revoked) {
            spend.revoked = sum;
        } else {
            spend.paid += sum;
            if (state == CreditState::Pending) spend.pending = sum;
        }
    }
    // Credits revoked after the job ended went straight back to its requester.
    spend.refunded +=
        sql_.scalar(QStringLiteral("SELECT COALESCE(SUM(p.amount), 0) FROM postings p "
                                   "JOIN entries e ON e.id = p.entry JOIN accounts a ON a.id = p.account "
                                   "WHERE e.kind = 'credit_revoke' AND e.job = ? AND a.kind = 'requester'"),
                    {job})
            .toLongLong();
    spend.escrow = balance(Account::job(job));
    QSqlQuery units = sql_.exec(QStringLiteral("SELECT COUNT(*), COALESCE(SUM(flops), 0) FROM entries "
                                               "WHERE kind = 'work_unit_credit' AND job = ?"),
                                {job});
    if (units.next()) {
        spend.workUnitsPaid = units.value(0).toLongLong();
        spend.flopsPaid = units.value(1).toLongLong();
    }
    return spend;
}

}  // namespace raven::ledger
