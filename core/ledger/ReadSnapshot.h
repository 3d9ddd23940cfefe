#pragma once
// ReadSnapshot: a run of reads that sees the file at one moment.
//
//   ReadSnapshot snapshot(connection);   // BEGIN (deferred): the first read fixes the moment
//   ...SELECTs...                        // none of them sees a commit made after that first read
//                                        // COMMIT at the end of the scope
//
// In WAL mode each statement outside a transaction reads the newest commit, so a report built from
// several queries beside a running coordinator (`raven-coordinator audit`, `status`) could sum the
// credits before a payment and the job's postings after it, and call a sound ledger unbalanced.
// Inside an open Transaction or ReadSnapshot it does nothing: that one already reads one moment.
// Nothing may write inside it (a write would have to upgrade a possibly stale read and fail busy).
#include "ledger/SqlConnection.h"

namespace raven::ledger {

class ReadSnapshot {
public:
    explicit ReadSnapshot(const SqlConnection& connection);
    ~ReadSnapshot();
    ReadSnapshot(const ReadSnapshot&) = delete;
    ReadSnapshot& operator=(const ReadSnapshot&) = delete;

private:
    const SqlConnection& connection_;
    bool outermost_;
};

}  // namespace raven::ledger
