#pragma once
// Transaction: every state change of the store is one of these.
//
//   Transaction tx(connection);   // BEGIN IMMEDIATE (or a SAVEPOINT when one is already open)
//   ...statements...
//   tx.commit();                  // COMMIT (or RELEASE the savepoint)
//
// Leaving the scope without commit() (an exception, an early return) rolls everything back, so a
// half-done change never reaches the file. BEGIN IMMEDIATE takes the write lock up front: two
// connections on one file then queue (busy timeout) instead of one failing when it upgrades a
// read to a write. Nested Transactions are savepoints: an operation that is a transaction of its
// own (Ledger::creditWorkUnit) can run inside a larger one (LeaseBook::acceptResult), and an inner
// rollback undoes only the inner part.
#include "ledger/SqlConnection.h"

namespace raven::ledger {

class Transaction {
public:
    explicit Transaction(SqlConnection& connection);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

    // Makes the changes durable (outermost) or folds them into the enclosing transaction.
    void commit();
    // Undoes the changes now; the destructor then does nothing.
    void rollback();

private:
    SqlConnection& connection_;
    int level_;  // 1 for the outermost transaction, 2.. for savepoints
    bool open_ = true;
};

}  // namespace raven::ledger
