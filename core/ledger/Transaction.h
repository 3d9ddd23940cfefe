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
//
//   Transaction tx(connection, Transaction::Sync::WithNextSynced);   // COMMIT without an fsync
//
// for changes that a crash may lose (lease grants: start-up hands every lease back anyway). The
// store is in WAL mode, where commits are appended in order and a crash loses only a suffix of
// them: the next synced commit (a payment, a new version) makes this one durable first, so nothing
// synced ever depends on a change the disk does not hold. Only the outermost transaction chooses;
// an inner one shares its durability.
#include "ledger/SqlConnection.h"

namespace raven::ledger {

class Transaction {
public:
    enum class Sync {
        Now,             // synchronous=FULL: durable when commit() returns
        WithNextSynced,  // synchronous=NORMAL: durable at the next Now commit (or a checkpoint)
    };
    explicit Transaction(SqlConnection& connection, Sync sync = Sync::Now);
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
