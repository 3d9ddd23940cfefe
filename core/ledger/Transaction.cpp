#include "ledger/Transaction.h"

#include "base/Error.h"

#include <QtGlobal>

#include <exception>

namespace raven::ledger {

namespace {

QString savepointName(int level) { return QStringLiteral("raven_sp_%1").arg(level); }

}  // namespace

Transaction::Transaction(SqlConnection& connection) : connection_(connection), level_(connection.depth_ + 1) {
    if (level_ == 1)
        connection_.query(QStringLiteral("BEGIN IMMEDIATE"));
    else
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
}

void Transaction::rollback() {
    RAVEN_ASSERT(open_, "Transaction::rollback() after commit or rollback");
    open_ = false;
    connection_.depth_ = level_ - 1;
    if (level_ == 1) {
        connection_.query(QStringLiteral("ROLLBACK"));
    } else {
        connection_.query(QStringLiteral("ROLLBACK TO ") + savepointName(level_));
        connection_.query(QStringLiteral("RELEASE ") + savepointName(level_));
    }
}

}  // namespace raven::ledger
