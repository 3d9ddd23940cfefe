#include "ledger/TrustBook.h"

#include <QSqlQuery>

namespace raven::ledger {

namespace {

const QString kColumns = QStringLiteral("contributor, verified, quarantined_at, quarantine_reason");

StoredTrust rowOf(const QSqlQuery& q) {
    StoredTrust t;
    t.contributor = q.value(0).toLongLong();
    t.verified = q.value(1).toLongLong();
    if (!q.value(2).isNull()) {
        t.quarantinedAt = QDateTime::fromMSecsSinceEpoch(q.value(2).toLongLong(), Qt::UTC);
        t.quarantineReason = q.value(3).toString();
    }
    return t;
}

}  // namespace

QList<StoredTrust> TrustBook::all() const {
    QSqlQuery q = store_.connection().exec(
        QStringLiteral("SELECT %1 FROM contributor_trust ORDER BY contributor").arg(kColumns));
    QList<StoredTrust> out;
    while (q.next()) out.append(rowOf(q));
    return out;
}

std::optional<StoredTrust> TrustBook::of(ContributorId contributor) const {
    QSqlQuery q = store_.connection().exec(
        QStringLiteral("SELECT %1 FROM contributor_trust WHERE contributor = ?").arg(kColumns), {contributor});
    if (!q.next()) return std::nullopt;
    return rowOf(q);
}

void TrustBook::recordVerified(ContributorId contributor, qint64 verified) {
    store_.connection().exec(
        QStringLiteral("INSERT INTO contributor_trust (contributor, verified) VALUES (?, ?) "
                       "ON CONFLICT (contributor) DO UPDATE SET verified = MAX(verified, excluded.verified)"),
        {contributor, verified});
}

void TrustBook::recordQuarantine(ContributorId contributor, const QString& reason, const QDateTime& at) {
    store_.connection().exec(
        QStringLiteral("INSERT INTO contributor_trust (contributor, quarantined_at, quarantine_reason) VALUES (?, ?, ?) "
                       "ON CONFLICT (contributor) DO UPDATE SET quarantined_at = excluded.quarantined_at, "
                       "quarantine_reason = excluded.quarantine_reason WHERE quarantined_at IS NULL"),
        {contributor, at.toMSecsSinceEpoch(), reason});
}

}  // namespace raven::ledger
