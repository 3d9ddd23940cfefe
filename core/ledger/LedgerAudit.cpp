// Ledger::audit(): proves the invariants of docs/ledger.md from the rows on disk, trusting neither
// the cached balances nor the code that wrote them. Run by tests after every scenario and by the
// coordinator at start-up (after a crash above all).
#include "ledger/Ledger.h"

namespace raven::ledger {

namespace {

// Runs `sql` and adds one problem line per row, formatted by `describe`.
template <typename Describe>
void collect(const SqlConnection& sql, const QString& query, QStringList& problems, Describe describe) {
    QSqlQuery q = sql.exec(query);
    while (q.next()) problems << describe(q);
}

}  // namespace

AuditReport Ledger::audit() const {
    AuditReport report;
    QStringList& problems = report.problems;
    report.entries = sql_.scalar(QStringLiteral("SELECT COUNT(*) FROM entries")).toLongLong();
    report.postings = sql_.scalar(QStringLiteral("SELECT COUNT(*) FROM postings")).toLongLong();
    report.accounts = sql_.scalar(QStringLiteral("SELECT COUNT(*) FROM accounts")).toLongLong();

    collect(sql_, QStringLiteral("PRAGMA quick_check"), problems, [](const QSqlQuery& q) {
        return q.value(0).toString() == QLatin1String("ok") ? QString()
                                                            : QStringLiteral("SQLite: ") + q.value(0).toString();
    });
    collect(sql_, QStringLiteral("PRAGMA foreign_key_check"), problems, [](const QSqlQuery& q) {
        return QStringLiteral("row %1 of %2 points to a missing %3")
            .arg(q.value(1).toString(), q.value(0).toString(), q.value(2).toString());
    });
    collect(sql_, QStringLiteral("SELECT entry, SUM(amount) FROM postings GROUP BY entry HAVING SUM(amount) <> 0"),
            problems, [](const QSqlQuery& q) {
                return QStringLiteral("entry %1 does not balance: its postings sum to %2")
                    .arg(q.value(0).toLongLong())
                    .arg(q.value(1).toLongLong());
            });
    collect(
        sql_,
        QStringLiteral("SELECT a.id, a.kind, a.owner, a.balance, COALESCE(SUM(p.amount), 0) AS total FROM accounts a "
                       "LEFT JOIN postings p ON p.account = a.id GROUP BY a.id HAVING a.balance <> total"),
        problems, [](const QSqlQuery& q) {
            return QStringLiteral("account %1 (%2 %3) has balance %4 but its postings sum to %5")
                .arg(q.value(0).toLongLong())
                .arg(q.value(1).toString())
                .arg(q.value(2).toLongLong())
                .arg(q.value(3).toLongLong())
                .arg(q.value(4).toLongLong());
        });
    collect(sql_, QStringLiteral("SELECT id, kind, owner, balance FROM accounts WHERE kind <> 'mint' AND balance < 0"),
            problems, [](const QSqlQuery& q) {
                return QStringLiteral("account %1 (%2 %3) is negative: %4")
                    .arg(q.value(0).toLongLong())
                    .arg(q.value(1).toString())
                    .arg(q.value(2).toLongLong())
                    .arg(q.value(3).toLongLong());
            });
    const qint64 total = sql_.scalar(QStringLiteral("SELECT COALESCE(SUM(balance), 0) FROM accounts")).toLongLong();
    if (total != 0) problems << QStringLiteral("the balances of all accounts sum to %1, not 0").arg(total);
    collect(
        sql_,
        QStringLiteral("SELECT w.id, (SELECT COUNT(*) FROM entries e WHERE e.work_unit = w.id) AS n FROM work_units w "
                       "WHERE w.state = 'done' AND n <> 1"),
        problems, [](const QSqlQuery& q) {
            return QStringLiteral("work unit %1 is done with %2 payment entries instead of 1")
                .arg(q.value(0).toLongLong())
                .arg(q.value(1).toLongLong());
        });
    collect(sql_,
            QStringLiteral("SELECT e.id, e.work_unit, w.state FROM entries e JOIN work_units w ON w.id = e.work_unit "
                           "WHERE w.state <> 'done'"),
            problems, [](const QSqlQuery& q) {
                return QStringLiteral("entry %1 pays work unit %2, which is %3, not done")
                    .arg(q.value(0).toLongLong())
                    .arg(q.value(1).toLongLong())
                    .arg(q.value(2).toString());
            });
    collect(sql_,
            QStringLiteral("SELECT e.id, e.work_unit, a.owner, w.accepted_from FROM entries e "
                           "JOIN work_units w ON w.id = e.work_unit JOIN postings p ON p.entry = e.id "
                           "JOIN accounts a ON a.id = p.account "
                           "WHERE a.kind = 'contributor' AND a.owner IS NOT w.accepted_from"),
            problems, [](const QSqlQuery& q) {
                return QStringLiteral("entry %1 pays contributor %3 for work unit %2, which was accepted from %4")
                    .arg(q.value(0).toLongLong())
                    .arg(q.value(1).toLongLong())
                    .arg(q.value(2).toLongLong())
                    .arg(q.value(3).toLongLong());
            });
    collect(sql_,
            QStringLiteral("SELECT j.id, j.budget, (SELECT COALESCE(SUM(p.amount), 0) FROM postings p "
                           "JOIN entries e ON e.id = p.entry JOIN accounts a ON a.id = p.account "
                           "WHERE e.kind = 'fund_job' AND a.kind = 'job' AND a.owner = j.id) AS funded "
                           "FROM jobs j WHERE j.budget <> funded"),
            problems, [](const QSqlQuery& q) {
                return QStringLiteral("job %1 has budget %2 but %3 was funded into its escrow")
                    .arg(q.value(0).toLongLong())
                    .arg(q.value(1).toLongLong())
                    .arg(q.value(2).toLongLong());
            });
    problems.removeAll(QString());
    return report;
}

}  // namespace raven::ledger
