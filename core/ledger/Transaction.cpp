#include "ledger/Transaction.h"

#include "base/Error.h"

#include <QtGlobal>

#include <exception>

namespace raven::ledger {

namespace {

QString savepointName(int level) { return QStringLiteral("raven_sp_%1").arg(level); }

// After a relaxed outermost transaction: statements outside any Transaction are synced again. A
// failure here is not the transaction's (it has ended); the next synced one sets it again.
void restoreFullSync(SqlConnection& connection, bool& relaxed) {
    if (!relaxed) return;
    try {
        connection.query(QStringLiteral("PRAGMA synchronous=FULL"));
        relaxed = false;
    } catch (const std::exception& e) {
        qWarning("raven ledger: restoring synchronous=FULL failed: %s", e.what());
    }
}

}  // namespace

Transaction::Transaction(SqlConnection& connection, Sync sync)
    : connection_(connection), level_(connection.depth_ + 1) {
    if (level_ == 1) {
        // Set before BEGIN (SQLite reads it at each commit); a relaxed one restores FULL after it, and a
        // synced one makes sure of it (if that restore failed).
        const bool relax = sync == Sync::WithNextSynced;
        if (relax != connection_.syncRelaxed_) {
            connection_.query(relax ? QStringLiteral("PRAGMA synchronous=NORMAL")
                                    : QStringLiteral("PRAGMA synchronous=FULL"));
            connection_.syncRelaxed_ = relax;
        }
        connection_.query(QStringLiteral("BEGIN IMMEDIATE"));
    } else
        connection_.query(QStringLiteral("SAVEPOINT ") + savepointName(level_));
    connection_.depth_ = level_;
}

Transaction::~Transaction() {
    if (!open_) return;
    try {
        rollback();
    } catch (const std::exception& e) {
        // A destructor must not throw; SQLite rolls back by itself when the connection closes.
        qWarning("raven ledger: rollback failed: %s", e.what());
        connection_.depth_ = level_ - 1;
    }
}

void Transaction::commit() {
    RAVEN_ASSERT(open_, "Transaction::commit() after commit or rollback");
    RAVEN_ASSERT(connection_.depth_ == level_, "an inner Transaction is still open at commit");
    if (level_ == 1)
        connection_.query(QStringLiteral("COMMIT"));
    else
        connection_.query(QStringLiteral("RELEASE ") + savepointName(level_));
    open_ = false;
    connection_.depth_ = level_ - 1;
    if (level_ == 1) restoreFullSync(connection_, connection_.syncRelaxed_);
}

void Transaction::rollback() {
    RAVEN_ASSERT(open_, "Transaction::rollback() after commit or rollback");
    open_ = false;
    connection_.depth_ = level_ - 1;
    if (level_ == 1) {
        connection_.query(QStringLiteral("ROLLBACK"));
        restoreFullSync(connection_, connection_.syncRelaxed_);
    } else {
        connection_.query(QStringLiteral("ROLLBACK TO ") + savepointName(level_));
        connection_.query(QStringLiteral("RELEASE ") + savepointName(level_));
    }
}

}  // namespace raven::ledger
