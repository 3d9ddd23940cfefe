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
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QString>
#include <QVariant>
#include <QVariantList>

namespace raven::ledger {

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
    // The first column of the first row, or an invalid QVariant when there is no row.
    QVariant scalar(const QString& sql, const QVariantList& bindings = {}) const;
    // Nesting depth of open Transactions (0: none); Transaction uses it to pick BEGIN or SAVEPOINT.
    int transactionDepth() const { return depth_; }

private:
    friend class Transaction;
    QString path_;
    QString name_;
    int depth_ = 0;
};

// Timestamps are stored as integer milliseconds since the epoch (UTC); NULL for "never".
QVariant toSqlTime(const QDateTime& time);
QDateTime fromSqlTime(const QVariant& value);

}  // namespace raven::ledger
