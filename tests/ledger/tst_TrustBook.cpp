// TrustBook (schema version 2): a contributor's verified units and its quarantine, in the store on
// disk, read back after the store is opened again; the count only grows; a quarantine is final
// (the first time and reason stay, and the database itself refuses to lift it).
#include <QtTest>

#include "LedgerFixture.h"
#include "base/Error.h"
#include "ledger/Schema.h"
#include "ledger/TrustBook.h"

using namespace raven;
using namespace raven::ledger;
using namespace raven::ledger::test;

class TrustBookTest : public QObject {
    Q_OBJECT
private slots:
    void keptAcrossReopening() {
        World w;
        QVERIFY(w.store->schemaVersion() >= 2);
        {
            TrustBook book(*w.store);
            QVERIFY(book.all().isEmpty());
            QVERIFY(!book.of(w.carol));
            book.recordVerified(w.carol, 3);
            book.recordVerified(w.carol, 7);
            book.recordVerified(w.carol, 5);  // late and smaller: changes nothing
            book.recordVerified(w.dave, 2);
            book.recordQuarantine(w.dave, "work unit 9 replayed: its digest differs", kT0);
            book.recordQuarantine(w.dave, "a second reason", kT0.addSecs(60));  // the first stays
        }
        w.open();
        TrustBook book(*w.store);
        const QList<StoredTrust> all = book.all();
        QCOMPARE(all.size(), 2);
        QCOMPARE(all[0].contributor, w.carol);
        QCOMPARE(all[0].verified, 7);
        QVERIFY(!all[0].quarantined());
        QCOMPARE(all[1].contributor, w.dave);
        QVERIFY(all[1].quarantined());
        QCOMPARE(*all[1].quarantinedAt, kT0);
        QCOMPARE(all[1].quarantineReason, QStringLiteral("work unit 9 replayed: its digest differs"));
        QCOMPARE(book.of(w.dave)->verified, 2);
    }

    void aQuarantineCannotBeLifted() {
        World w;
        TrustBook book(*w.store);
        book.recordQuarantine(w.carol, "caught", kT0);
        QVERIFY_THROWS_EXCEPTION(raven::Error,
                                 w.store->connection().exec("UPDATE contributor_trust SET quarantined_at = NULL, "
                                                            "quarantine_reason = NULL WHERE contributor = ?",
                                                            {w.carol}));
        QVERIFY(book.of(w.carol)->quarantined());
    }

    void anUnknownContributorIsRefused() {
        World w;
        TrustBook book(*w.store);
        QVERIFY_THROWS_EXCEPTION(raven::Error, book.recordVerified(9999, 1));  // foreign key
    }
};

QTEST_GUILESS_MAIN(TrustBookTest)
#include "tst_TrustBook.moc"
