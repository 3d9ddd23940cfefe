#pragma once
// SqlConnection: one Qt Sql connection to one SQLite file, set up the way the store needs it.
//
//  - Each instance registers its own connection name, so several stores (on the same file or on
//    different files) coexist in one process. A connection belongs to the thread that opened it.
//  - journal_mode=WAL: readers never block the writer and a crash never leaves a half-written page
//    in the database file; other connections on the same file see each commit at once.
//  - synchronous=FULL: the WAL is fsynced at every commit, so a credit the coordinator has reported
//    to a contributor survives a power cut too (NORMAL survives a killed process but may lose the
//    last commits on power loss). It costs one fsync per state change, which the coordinator's rate
//    of state changes (a few per work unit) easily affords.
//  - foreign_keys=ON, and a busy timeout so that two connections writing at once wait for each other
//    instead of failing.
//
// exec() prepares, binds positional '?' values and runs a statement; a failure throws raven::Error
// naming the statement and SQLite's message.
//
// Prepared statements are kept: query() and scalar() take the statement for their SQL text from a
// per-connection cache (preparing it the first time), and the statement goes back when the rows are
// destroyed, finished (sqlite3_reset: no read snapshot or autocommit held open by a half-read
// SELECT). Preparing cost about as much as running the coordinator's short statements, several per
// work unit. A statement still in use is never handed out twice: a nested query() of the same text
// (reading rows while running it again) prepares a second one. A statement that fails is dropped, not
// cached; SQLite re-prepares a cached statement by itself after a schema change (prepare_v2); a
// schema change run on this connection (CREATE, DROP, ALTER) empties the cache, and
// clearStatements() drops them all. (Qt's driver sizes a statement's row when it is prepared, so a
// `SELECT *` whose column count another connection changes before it runs overruns that row, cached
// or not: the store names its columns.) exec() returns a
// plain QSqlQuery the caller owns and is not cached.
//
//   for (SqlRows rows = sql.query("SELECT id FROM jobs WHERE state = ?", {"running"}); rows.next();)
//       ids << rows.value(0).toLongLong();
#include <QHash>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QString>
#include <QVariant>
#include <QVariantList>

namespace raven::ledger {

class SqlConnection;

// The rows of one run of a cached statement, read forward once (next(), value()), or what a change
// did (numRowsAffected(), lastInsertId()). Move-only; must not outlive its SqlConnection. On
// destruction the statement is finished and returned to the connection's cache.
class SqlRows {
public:
    SqlRows(SqlRows&& other) noexcept;
    SqlRows& operator=(SqlRows&&) = delete;
    SqlRows(const SqlRows&) = delete;
    SqlRows& operator=(const SqlRows&) = delete;
    ~SqlRows();

    bool next() { return query_.next(); }
    QVariant value(int column) const { return query_.value(column); }
    int numRowsAffected() const { return query_.numRowsAffected(); }
    QVariant lastInsertId() const { return query_.lastInsertId(); }
    // The current row, for helpers that read a row from a QSqlQuery.
    const QSqlQuery& row() const { return query_; }

private:
    friend class SqlConnection;
    SqlRows(const SqlConnection* owner, const QString& sql, QSqlQuery query)
        : owner_(owner), sql_(sql), query_(std::move(query)) {}
    const SqlConnection* owner_;
    QString sql_;
    QSqlQuery query_;
};

class SqlConnection {
public:
    // Opens (creating if needed) the SQLite file at `path`; raven::Error if it cannot.
    explicit SqlConnection(const QString& path);
    ~SqlConnection();
    SqlConnection(const SqlConnection&) = delete;
    SqlConnection& operator=(const SqlConnection&) = delete;

    const QString& path() const { return path_; }
    const QString& connectionName() const { return name_; }
    QSqlDatabase database() const;

    // Runs one statement with positional bindings; the returned query is positioned before the
    // first row (call next()).
    QSqlQuery exec(const QString& sql, const QVariantList& bindings = {}) const;
    // Runs one statement through the statement cache; the rows are positioned before the first.
    SqlRows query(const QString& sql, const QVariantList& bindings = {}) const;
    // The first column of the first row, or an invalid QVariant when there is no row (cached).
    QVariant scalar(const QString& sql, const QVariantList& bindings = {}) const;

    // Drops every cached statement not in use (those in use are finalized when their rows go).
    void clearStatements() const;
    // How many statements query()/scalar() had to prepare, and how many they found prepared.
    quint64 statementsPrepared() const { return prepared_; }
    quint64 statementsReused() const { return reused_; }
    // How many statements exec() prepared for one run (the paths the coordinator runs per result
    // should add none: tst_Ledger's paymentsReusePreparedStatements).
    quint64 statementsUncached() const { return uncached_; }
    // At most this many distinct statements are kept (the store has a few dozen texts); beyond it the
    // cache is emptied and refills with what is used now.
    static constexpr int kMaxCachedStatements = 256;
    // Nesting depth of open Transactions and ReadSnapshots (0: none); Transaction uses it to pick
    // BEGIN or SAVEPOINT.
    int transactionDepth() const { return depth_; }

private:
    friend class Transaction;
    friend class ReadSnapshot;
    friend class SqlRows;
    QSqlQuery prepare(const QString& sql) const;
    static void bind(QSqlQuery& query, const QVariantList& bindings);
    void giveBack(const QString& sql, QSqlQuery query) const;

    QString path_;
    QString name_;
    mutable int depth_ = 0;  // a ReadSnapshot on a const connection opens a level too
    bool syncRelaxed_ = false;  // PRAGMA synchronous=NORMAL is on (Transaction::Sync::WithNextSynced)
    mutable QHash<QString, QSqlQuery> idle_;  // prepared statements not in use, by SQL text
    mutable quint64 prepared_ = 0;
    mutable quint64 reused_ = 0;
    mutable quint64 uncached_ = 0;
};

// Timestamps are stored as integer milliseconds since the epoch (UTC); NULL for "never".
QVariant toSqlTime(const QDateTime& time);
QDateTime fromSqlTime(const QVariant& value);

}  // namespace raven::ledger
