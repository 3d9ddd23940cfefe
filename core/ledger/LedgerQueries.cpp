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

    const QDate today = now.toUTC().date();
    const QDate first = today.addDays(-(days - 1));
    for (QDate day = first; day <= today; day = day.addDays(1)) stats.perDay << DailyCredits{day, 0};
    const qint64 from = first.startOfDay(Qt::UTC).toMSecsSinceEpoch();
    const qint64 until = today.addDays(1).startOfDay(Qt::UTC).toMSecsSinceEpoch();
    QSqlQuery q = sql_.exec(QStringLiteral("SELECT e.created_at, p.amount FROM postings p "
                                           "JOIN accounts a ON a.id = p.account JOIN entries e ON e.id = p.entry "
                                           "WHERE a.kind = 'contributor' AND a.owner = ? "
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
        else if (kind == QLatin1String("work_unit_credit"))
            spend.paid = -sum;
        else if (kind == QLatin1String("refund"))
            spend.refunded = -sum;
    }
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
