#include "ledger/ReadSnapshot.h"

#include <QtGlobal>

#include <exception>

namespace raven::ledger {

ReadSnapshot::ReadSnapshot(const SqlConnection& connection)
    : connection_(connection), outermost_(connection.depth_ == 0) {
    if (!outermost_) return;
    connection_.exec(QStringLiteral("BEGIN DEFERRED"));
    connection_.depth_ = 1;
}

ReadSnapshot::~ReadSnapshot() {
    if (!outermost_) return;
    connection_.depth_ = 0;
    try {
        // Only reads ran: COMMIT ends the read transaction and changes nothing.
        connection_.exec(QStringLiteral("COMMIT"));
    } catch (const std::exception& e) {
        // A destructor must not throw; SQLite ends the read when the connection closes.
        qWarning("raven ledger: ending a read snapshot failed: %s", e.what());
    }
}

}  // namespace raven::ledger
