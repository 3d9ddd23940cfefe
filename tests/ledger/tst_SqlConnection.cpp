// The statement cache of SqlConnection: a statement is prepared once and reused, never handed out
// twice at once, finished when its rows go (no read snapshot held open), dropped when it fails, and
// still right after the schema under it changed. SQLite files on disk in a QTemporaryDir.
#include "base/Error.h"
#include "ledger/ReadSnapshot.h"
#include "ledger/SqlConnection.h"
#include "ledger/Transaction.h"

#include <QSqlRecord>
#include <QTemporaryDir>
#include <QTest>

#include <optional>

using namespace raven::ledger;

class SqlConnectionTest : public QObject {
    Q_OBJECT
private slots:
    void aStatementIsPreparedOnceAndReused();
    void aStatementInUseIsNotHandedOutTwice();
    void rowsGoneHoldNoReadSnapshot();
    void aFailedStatementIsDropped();
    void aSchemaChangeIsSeenByCachedStatements();
    void clearedAndFullCachesPrepareAgain();
    void aReadSnapshotSeesOneMoment();
    void aReadSnapshotInsideATransactionIsThatTransaction();
    void anUnsyncedTransactionLeavesTheConnectionSynced();
};

namespace {

QString databaseIn(const QTemporaryDir& dir) { return dir.filePath(QStringLiteral("store.db")); }

}  // namespace

void SqlConnectionTest::aStatementIsPreparedOnceAndReused() {
    QTemporaryDir dir;
    SqlConnection sql(databaseIn(dir));
    sql.exec(QStringLiteral("CREATE TABLE t (id INTEGER PRIMARY KEY, x INTEGER NOT NULL)"));
    const quint64 prepared = sql.statementsPrepared();
    for (int i = 0; i < 100; ++i) sql.query(QStringLiteral("INSERT INTO t (x) VALUES (?)"), {i});
    QCOMPARE(sql.statementsPrepared() - prepared, quint64(1));
    QCOMPARE(sql.statementsReused(), quint64(99));
    // The reused statement binds each run's values afresh.
    for (int i = 0; i < 100; i += 7)
        QCOMPARE(sql.scalar(QStringLiteral("SELECT x FROM t WHERE id = ?"), {i + 1}).toInt(), i);
    QCOMPARE(sql.scalar(QStringLiteral("SELECT COUNT(*) FROM t")).toInt(), 100);
    QCOMPARE(sql.scalar(QStringLiteral("SELECT x FROM t WHERE id = ?"), {1000}), QVariant());
    // A change's effect is read from its own run.
    SqlRows updated = sql.query(QStringLiteral("UPDATE t SET x = x + 1 WHERE x < ?"), {10});
    QCOMPARE(updated.numRowsAffected(), 10);
}

void SqlConnectionTest::aStatementInUseIsNotHandedOutTwice() {
    QTemporaryDir dir;
    SqlConnection sql(databaseIn(dir));
    sql.exec(QStringLiteral("CREATE TABLE t (id INTEGER PRIMARY KEY, parent INTEGER)"));
    for (int i = 1; i <= 4; ++i) sql.query(QStringLiteral("INSERT INTO t (id, parent) VALUES (?, ?)"), {i, i - 1});
    const QString children = QStringLiteral("SELECT id FROM t WHERE parent = ? ORDER BY id");
    // Reading rows while running the same text again: the inner run must not reset the outer one.
    QList<int> seen;
    for (SqlRows outer = sql.query(QStringLiteral("SELECT id FROM t ORDER BY id")); outer.next();) {
        seen << outer.value(0).toInt();
        SqlRows inner = sql.query(children, {outer.value(0)});
        if (inner.next()) seen << -inner.value(0).toInt();
        // And the outer text again, nested: a second statement, the outer cursor untouched.
        QCOMPARE(sql.scalar(QStringLiteral("SELECT id FROM t ORDER BY id")).toInt(), 1);
    }
    QCOMPARE(seen, (QList<int>{1, -2, 2, -3, 3, -4, 4}));
    const quint64 prepared = sql.statementsPrepared();
    sql.scalar(QStringLiteral("SELECT id FROM t ORDER BY id"));
    sql.scalar(children, {1});
    QCOMPARE(sql.statementsPrepared(), prepared);  // both kept once their runs ended
}

void SqlConnectionTest::rowsGoneHoldNoReadSnapshot() {
    QTemporaryDir dir;
    SqlConnection reader(databaseIn(dir));
    SqlConnection writer(databaseIn(dir));
    writer.exec(QStringLiteral("CREATE TABLE t (x INTEGER)"));
    for (int i = 0; i < 3; ++i) writer.query(QStringLiteral("INSERT INTO t (x) VALUES (?)"), {i});
    const QString select = QStringLiteral("SELECT x FROM t ORDER BY x");
    // The WAL can be checkpointed whole only when no reader holds an older snapshot.
    const auto checkpointsWhole = [&] {
        writer.query(QStringLiteral("INSERT INTO t (x) VALUES (?)"), {99});
        SqlRows r = writer.query(QStringLiteral("PRAGMA wal_checkpoint(PASSIVE)"));
        r.next();
        return r.value(1).toInt() == r.value(2).toInt();
    };
    {
        SqlRows halfRead = reader.query(select);
        QVERIFY(halfRead.next());
        // Control: while the rows are alive the reader's snapshot stops the checkpoint.
        QVERIFY(!checkpointsWhole());
    }
    // The statement is cached again now, finished: it holds nothing.
    QVERIFY(checkpointsWhole());
    QCOMPARE(reader.scalar(select).toInt(), 0);
    QVERIFY(checkpointsWhole());
    QVERIFY(reader.statementsReused() >= 1);
}

void SqlConnectionTest::aFailedStatementIsDropped() {
    QTemporaryDir dir;
    SqlConnection sql(databaseIn(dir));
    sql.exec(QStringLiteral("CREATE TABLE t (x INTEGER NOT NULL UNIQUE)"));
    const QString insert = QStringLiteral("INSERT INTO t (x) VALUES (?)");
    sql.query(insert, {1});
    const quint64 prepared = sql.statementsPrepared();
    bool failed = false;
    try {
        sql.query(insert, {1});  // the unique constraint
    } catch (const raven::Error& e) {
        failed = true;
        QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("INSERT INTO t")), e.what());
    }
    QVERIFY(failed);
    QCOMPARE(sql.statementsPrepared(), prepared);  // it had been cached, so it was reused to fail
    sql.query(insert, {2});
    QCOMPARE(sql.statementsPrepared(), prepared + 1);  // the failed one was not put back
    QCOMPARE(sql.scalar(QStringLiteral("SELECT COUNT(*) FROM t")).toInt(), 2);
    // A transaction on the same connection still works after the failure.
    sql.query(QStringLiteral("BEGIN IMMEDIATE"));
    sql.query(insert, {3});
    sql.query(QStringLiteral("ROLLBACK"));
    QCOMPARE(sql.scalar(QStringLiteral("SELECT COUNT(*) FROM t")).toInt(), 2);
}

void SqlConnectionTest::aSchemaChangeIsSeenByCachedStatements() {
    QTemporaryDir dir;
    SqlConnection sql(databaseIn(dir));
    SqlConnection other(databaseIn(dir));
    sql.exec(QStringLiteral("CREATE TABLE t (a INTEGER)"));
    sql.query(QStringLiteral("INSERT INTO t (a) VALUES (1)"));
    const QString named = QStringLiteral("SELECT a FROM t");
    QCOMPARE(sql.scalar(named).toInt(), 1);
    // Another connection replaces the table: the cached statement is re-prepared by SQLite and
    // reads the new table (its columns are named, so their number cannot change).
    other.exec(QStringLiteral("DROP TABLE t"));
    other.exec(QStringLiteral("CREATE TABLE t (b TEXT, a INTEGER)"));
    other.exec(QStringLiteral("INSERT INTO t (a, b) VALUES (2, 'two')"));
    quint64 prepared = sql.statementsPrepared();
    QCOMPARE(sql.scalar(named).toInt(), 2);
    QCOMPARE(sql.statementsPrepared(), prepared);  // still the cached one
    // A table that went away: a clear error, and the statement works again once it is back.
    other.exec(QStringLiteral("DROP TABLE t"));
    QVERIFY_THROWS_EXCEPTION(raven::Error, sql.query(named));
    other.exec(QStringLiteral("CREATE TABLE t (a INTEGER)"));
    other.exec(QStringLiteral("INSERT INTO t (a) VALUES (3)"));
    QCOMPARE(sql.scalar(named).toInt(), 3);

    // A schema change on this connection empties its cache.
    sql.scalar(named);
    prepared = sql.statementsPrepared();
    sql.query(QStringLiteral("CREATE INDEX t_a ON t(a)"));
    QCOMPARE(sql.scalar(named).toInt(), 3);
    QCOMPARE(sql.statementsPrepared(), prepared + 1);
}

void SqlConnectionTest::clearedAndFullCachesPrepareAgain() {
    QTemporaryDir dir;
    SqlConnection sql(databaseIn(dir));
    const QString one = QStringLiteral("SELECT 1");
    sql.scalar(one);
    quint64 prepared = sql.statementsPrepared();
    sql.scalar(one);
    QCOMPARE(sql.statementsPrepared(), prepared);
    sql.clearStatements();
    sql.scalar(one);
    QCOMPARE(sql.statementsPrepared(), prepared + 1);
    // More distinct texts than the cache keeps: it empties and refills, results stay right.
    for (int i = 0; i <= SqlConnection::kMaxCachedStatements; ++i)
        QCOMPARE(sql.scalar(QStringLiteral("SELECT %1").arg(i)).toInt(), i);
    prepared = sql.statementsPrepared();
    sql.scalar(one);
    QCOMPARE(sql.statementsPrepared(), prepared + 1);  // emptied when full
    sql.scalar(QStringLiteral("SELECT %1").arg(SqlConnection::kMaxCachedStatements));
    QCOMPARE(sql.statementsPrepared(), prepared + 1);  // the newest are kept
}

QTEST_GUILESS_MAIN(SqlConnectionTest)
// Several queries of one report (an audit beside a running coordinator) read one moment: a commit
// made by another connection after the first read is not seen until the snapshot ends.
void SqlConnectionTest::aReadSnapshotSeesOneMoment() {
    QTemporaryDir dir;
    SqlConnection reader(databaseIn(dir));
    SqlConnection writer(databaseIn(dir));
    writer.exec(QStringLiteral("CREATE TABLE t (x INTEGER)"));
    writer.query(QStringLiteral("INSERT INTO t (x) VALUES (1)"));
    const QString count = QStringLiteral("SELECT COUNT(*) FROM t");
    {
        const ReadSnapshot snapshot(reader);
        QCOMPARE(reader.transactionDepth(), 1);
        QCOMPARE(reader.scalar(count).toInt(), 1);
        writer.query(QStringLiteral("INSERT INTO t (x) VALUES (2)"));  // not blocked by the reader
        QCOMPARE(reader.scalar(count).toInt(), 1);
        QCOMPARE(reader.scalar(QStringLiteral("SELECT SUM(x) FROM t")).toInt(), 1);
        {
            const ReadSnapshot inner(reader);  // nested: the same moment
            QCOMPARE(reader.scalar(count).toInt(), 1);
        }
        QCOMPARE(reader.transactionDepth(), 1);
        QCOMPARE(reader.scalar(count).toInt(), 1);
    }
    QCOMPARE(reader.transactionDepth(), 0);
    QCOMPARE(reader.scalar(count).toInt(), 2);
    // Without one, each statement reads the newest commit.
    writer.query(QStringLiteral("INSERT INTO t (x) VALUES (3)"));
    QCOMPARE(reader.scalar(count).toInt(), 3);
    // The snapshot held no lock: the writer's commits went through and the WAL checkpoints whole.
    QSqlQuery row = writer.exec(QStringLiteral("PRAGMA wal_checkpoint(TRUNCATE)"));
    QVERIFY(row.next());
    QCOMPARE(row.value(0).toInt(), 0);  // not busy
}

void SqlConnectionTest::aReadSnapshotInsideATransactionIsThatTransaction() {
    QTemporaryDir dir;
    SqlConnection sql(databaseIn(dir));
    sql.exec(QStringLiteral("CREATE TABLE t (x INTEGER)"));
    Transaction tx(sql);
    sql.query(QStringLiteral("INSERT INTO t (x) VALUES (1)"));
    {
        const ReadSnapshot snapshot(sql);  // must neither BEGIN again nor end the transaction
        QCOMPARE(sql.transactionDepth(), 1);
        QCOMPARE(sql.scalar(QStringLiteral("SELECT COUNT(*) FROM t")).toInt(), 1);
    }
    QCOMPARE(sql.transactionDepth(), 1);
    tx.rollback();
    QCOMPARE(sql.scalar(QStringLiteral("SELECT COUNT(*) FROM t")).toInt(), 0);
}

#include "tst_SqlConnection.moc"

// Transaction::Sync::WithNextSynced commits without an fsync (synchronous=NORMAL) and only itself:
// an inner transaction shares it, and the connection is FULL again after a commit or a rollback.
void SqlConnectionTest::anUnsyncedTransactionLeavesTheConnectionSynced() {
    QTemporaryDir dir;
    SqlConnection sql(databaseIn(dir));
    sql.exec(QStringLiteral("CREATE TABLE t (id INTEGER PRIMARY KEY, x INTEGER NOT NULL)"));
    const auto synchronous = [&] { return sql.scalar(QStringLiteral("PRAGMA synchronous")).toInt(); };
    constexpr int kNormal = 1, kFull = 2;
    QCOMPARE(synchronous(), kFull);
    {
        Transaction tx(sql, Transaction::Sync::WithNextSynced);
        QCOMPARE(synchronous(), kNormal);
        {
            Transaction inner(sql);  // a savepoint: the outermost transaction's durability
            sql.exec(QStringLiteral("INSERT INTO t (x) VALUES (1)"));
            QCOMPARE(synchronous(), kNormal);
            inner.commit();
        }
        tx.commit();
    }
    QCOMPARE(synchronous(), kFull);
    {
        Transaction tx(sql, Transaction::Sync::WithNextSynced);
        sql.exec(QStringLiteral("INSERT INTO t (x) VALUES (2)"));
    }  // rolled back
    QCOMPARE(synchronous(), kFull);
    {
        Transaction tx(sql);
        QCOMPARE(synchronous(), kFull);
        sql.exec(QStringLiteral("INSERT INTO t (x) VALUES (3)"));
        tx.commit();
    }
    // Committed is committed, whatever the durability: another connection reads both rows.
    SqlConnection other(databaseIn(dir));
    QCOMPARE(other.scalar(QStringLiteral("SELECT group_concat(x) FROM t")).toString(), QStringLiteral("1,3"));
}
