// Ledger::audit(): proves the invariants of docs/ledger.md from the rows on disk, trusting neither
// the cached balances nor the code that wrote them. Run by tests after every scenario and by the
// coordinator at start-up (after a crash above all).
#include "ledger/Ledger.h"
#include "ledger/ReadSnapshot.h"

namespace raven::ledger {

namespace {

// Runs `sql` and adds one problem line per row, formatted by `describe`.
template <typename Describe>
void collect(const SqlConnection& sql, const QString& query, QStringList& problems, Describe describe) {
    QSqlQuery q = sql.exec(query);
    while (q.next()) problems << describe(q);
}

// The credit states (docs/ledger.md, "Credit states").
void auditCredits(const SqlConnection& sql, QStringList& problems) {
    collect(sql,
            QStringLiteral("SELECT e.id, e.work_unit, (SELECT COUNT(*) FROM credits c WHERE c.entry = e.id) AS n "
                           "FROM entries e WHERE e.kind = 'work_unit_credit' AND n <> 1"),
            problems, [](const QSqlQuery& q) {
                return QStringLiteral("payment entry %1 for work unit %2 has %3 credit rows instead of 1")
                    .arg(q.value(0).toLongLong())
                    .arg(q.value(1).toLongLong())
                    .arg(q.value(2).toLongLong());
            });
    // One state each, held up by the right entries: pending has no settling entry; confirmed and
    // revoked one of their kind (confirmed without one: paid before schema v3, straight to the
    // contributor); the payment entry's credit side names the account the state says. CROSS JOIN
    // keeps SQLite's planner on postings by entry (two rows) before the account: left free, it
    // searched the account's postings first, every posting of that contributor once per credit,
    // quadratic in its credits (docs/benchmarks.md, "A quarantine's suspects").
    collect(
        sql,
        QStringLiteral(
            "SELECT c.work_unit, c.state, s.kind AS settled_kind, c.amount, "
            "(SELECT COALESCE(SUM(p.amount), 0) FROM postings p CROSS JOIN accounts a ON a.id = p.account "
            " WHERE p.entry = c.entry AND p.amount > 0 AND a.owner = c.contributor "
            " AND a.kind = CASE WHEN c.state = 'confirmed' AND c.settled_by IS NULL THEN 'contributor' "
            "                   ELSE 'pending' END) AS credited, "
            "(SELECT COALESCE(SUM(p.amount), 0) FROM postings p WHERE p.entry = c.entry AND p.amount > 0) AS total, "
            "(SELECT COALESCE(SUM(p.amount), 0) FROM postings p WHERE p.entry = c.settled_by AND p.amount > 0) "
            "  AS settled "
            "FROM credits c LEFT JOIN entries s ON s.id = c.settled_by "
            "WHERE NOT ((c.state = 'pending' AND c.settled_by IS NULL) "
            "        OR (c.state = 'confirmed' AND (c.settled_by IS NULL OR s.kind = 'credit_confirm')) "
            "        OR (c.state = 'revoked' AND s.kind = 'credit_revoke')) "
            "   OR credited <> c.amount OR total <> c.amount "
            "   OR (c.settled_by IS NOT NULL AND settled <> c.amount)"),
        problems, [](const QSqlQuery& q) {
            return QStringLiteral(
                       "the credit of work unit %1 (%2, settled by %3, %4 micro-credits) disagrees "
                       "with its postings: %5 to the account its state names, %6 in all, %7 settled")
                .arg(q.value(0).toLongLong())
                .arg(q.value(1).toString(), q.value(2).isNull() ? QStringLiteral("nothing") : q.value(2).toString())
                .arg(q.value(3).toLongLong())
                .arg(q.value(4).toLongLong())
                .arg(q.value(5).toLongLong())
                .arg(q.value(6).toLongLong());
        });
    collect(sql,
            QStringLiteral("SELECT a.owner, a.balance, (SELECT COALESCE(SUM(c.amount), 0) FROM credits c "
                           "WHERE c.contributor = a.owner AND c.state = 'pending') AS held "
                           "FROM accounts a WHERE a.kind = 'pending' AND a.balance <> held"),
            problems, [](const QSqlQuery& q) {
                return QStringLiteral("contributor %1's pending account holds %2 but its pending credits sum to %3")
                    .arg(q.value(0).toLongLong())
                    .arg(q.value(1).toLongLong())
                    .arg(q.value(2).toLongLong());
            });
    // The three sums against the postings that moved them.
    const auto sumOf = [&sql](const QString& query) { return sql.scalar(query).toLongLong(); };
    const qint64 confirmed =
        sumOf(QStringLiteral("SELECT COALESCE(SUM(amount), 0) FROM credits WHERE state = 'confirmed'"));
    const qint64 intoEarnings =
        sumOf(QStringLiteral("SELECT COALESCE(SUM(p.amount), 0) FROM postings p JOIN entries e ON e.id = p.entry "
                             "JOIN accounts a ON a.id = p.account WHERE a.kind = 'contributor' "
                             "AND e.kind IN ('work_unit_credit', 'credit_confirm')"));
    if (confirmed != intoEarnings)
        problems << QStringLiteral("confirmed credits sum to %1 but %2 was posted to contributors' earnings")
                        .arg(confirmed)
                        .arg(intoEarnings);
    const qint64 revoked =
        sumOf(QStringLiteral("SELECT COALESCE(SUM(amount), 0) FROM credits WHERE state = 'revoked'"));
    const qint64 givenBack =
        sumOf(QStringLiteral("SELECT COALESCE(SUM(p.amount), 0) FROM postings p JOIN entries e ON e.id = p.entry "
                             "WHERE e.kind = 'credit_revoke' AND p.amount > 0"));
    if (revoked != givenBack)
        problems << QStringLiteral("revoked credits sum to %1 but %2 was given back to jobs and requesters")
                        .arg(revoked)
                        .arg(givenBack);
    const qint64 all = sumOf(QStringLiteral("SELECT COALESCE(SUM(amount), 0) FROM credits"));
    const qint64 paidOut = sumOf(
        QStringLiteral("SELECT COALESCE(-SUM(p.amount), 0) FROM postings p JOIN entries e ON e.id = p.entry "
                       "JOIN accounts a ON a.id = p.account WHERE e.kind = 'work_unit_credit' AND a.kind = 'job'"));
    if (all != paidOut)
        problems << QStringLiteral("pending, confirmed and revoked credits sum to %1 but jobs paid %2")
                        .arg(all)
                        .arg(paidOut);
    collect(
        sql,
        QStringLiteral("SELECT c.work_unit, c.contributor FROM credits c WHERE c.state = 'confirmed' AND EXISTS "
                       "(SELECT 1 FROM rejections r WHERE r.work_unit = c.work_unit AND r.contributor = c.contributor "
                       "AND r.replay_mismatch = 1)"),
        problems, [](const QSqlQuery& q) {
            return QStringLiteral(
                       "work unit %1's credit is confirmed although contributor %2's result for it "
                       "did not match its replay")
                .arg(q.value(0).toLongLong())
                .arg(q.value(1).toLongLong());
        });
    collect(sql,
            QStringLiteral("SELECT c.contributor, COUNT(*) FROM credits c JOIN contributor_trust t "
                           "ON t.contributor = c.contributor WHERE t.quarantined_at IS NOT NULL "
                           "AND c.state = 'pending' GROUP BY c.contributor"),
            problems, [](const QSqlQuery& q) {
                return QStringLiteral("contributor %1 is quarantined but still has %2 pending credits")
                    .arg(q.value(0).toLongLong())
                    .arg(q.value(1).toLongLong());
            });
}

}  // namespace

AuditReport Ledger::audit() const {
    // Its sums are compared across queries: beside a running coordinator they must see one moment.
    const ReadSnapshot snapshot(sql_);
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
                           "WHERE a.kind IN ('contributor', 'pending') AND a.owner IS NOT w.accepted_from"),
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
    auditCredits(sql_, problems);
    problems.removeAll(QString());
    return report;
}

}  // namespace raven::ledger
