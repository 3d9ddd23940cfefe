#pragma once
// TrustBook: what verifying results has taught the coordinator about each contributor, kept in the
// store so that a restart forgets none of it (docs/verification.md).
//
//   TrustBook book(store);
//   for (const StoredTrust& t : book.all()) policy.restore(t.contributor, t.verified, t.quarantined());
//   book.recordVerified(contributor, verifiedNow);          // its replay rate falls with this
//   book.recordQuarantine(contributor, why, now);           // for good: a trigger refuses lifting it
//
// Table contributor_trust (schema version 2): one row per contributor that has had a result
// replayed. A contributor without a row is new (on probation). Each write is its own transaction
// (fsynced): a quarantine must survive a crash the moment it is decided; a verified count lost to a
// crash only costs the contributor one more replay.
#include <QDateTime>
#include <QList>
#include <QString>

#include <optional>

#include "ledger/CoordinatorStore.h"

namespace raven::ledger {

struct StoredTrust {
    ContributorId contributor = 0;
    qint64 verified = 0;
    std::optional<QDateTime> quarantinedAt;
    QString quarantineReason;
    bool quarantined() const { return quarantinedAt.has_value(); }
};

class TrustBook {
public:
    explicit TrustBook(CoordinatorStore& store) : store_(store) {}

    QList<StoredTrust> all() const;
    std::optional<StoredTrust> of(ContributorId contributor) const;
    // The count only grows: an older, smaller count written late changes nothing.
    void recordVerified(ContributorId contributor, qint64 verified);
    // A second quarantine of the same contributor keeps the first's time and reason.
    void recordQuarantine(ContributorId contributor, const QString& reason, const QDateTime& at);

private:
    CoordinatorStore& store_;
};

}  // namespace raven::ledger
