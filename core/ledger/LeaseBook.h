#pragma once
// LeaseBook: who is computing which work unit until when, kept in the coordinator's store. The
// scheduler drives it; the store remembers it across restarts.
//
//   lease(U, C, deadline)    U is C's to compute until the deadline (U: pending/expired -> leased)
//   expireLeases(now)        leases past their deadline end; units with no live lease left become
//                            expired and are returned for re-issue
//   handBack(U, C)           C gives U back (shutdown, leaving): U -> pending when no lease is left
//   acceptResult(U, C)       C's result for U is valid: the first one wins, exactly once — U is done
//                            and C paid (Ledger::creditWorkUnit) in one transaction; any later result
//                            for U is a Duplicate
//   rejectResult(U, C, why)  C's result failed validation: counted against C, U re-issued
//
// Leases are rows of the leases table, so a unit may have several live leases: the scheduler may
// duplicate a straggler at the end of a step (LeaseMode::Speculative); whichever result comes first
// is paid, the other holders' leases are superseded. A result is accepted from a contributor whose
// lease expired, as long as nobody delivered first: late work is still good work.
//
// Budget: lease() grants a lease only when the job's escrow covers the price of every unit of the
// job that is leased or expired, plus this one; otherwise the job becomes out_of_budget and leasing
// stops. So a result for a granted lease can always be paid unless the rate changed meanwhile.
#include "ledger/Ledger.h"

namespace raven::ledger {

enum class LeaseMode {
    Exclusive,    // refused while another contributor holds a live lease on the unit
    Speculative,  // an extra lease on a unit that is already leased (straggler duplication)
};

enum class LeaseOutcome {
    Granted,         // a new lease
    Extended,        // the contributor already held a live lease on the unit: its deadline moved
    AlreadyLeased,   // Exclusive and someone else holds a live lease
    AlreadyDone,     // the unit has its result
    JobNotLeasable,  // the job is paused, out_of_budget, done or cancelled
    OutOfBudget,     // the escrow cannot cover this unit as well: the job is now out_of_budget
};

enum class AcceptOutcome {
    Accepted,     // the first valid result: the unit is done and the contributor paid
    Duplicate,    // the unit already has its result; nothing paid
    NotLeased,    // the contributor never held a lease on the unit (or handed it back / was rejected)
    OutOfBudget,  // the escrow cannot pay; the unit stays open and the job is out_of_budget
    JobEnded,     // the job is done or cancelled
};

struct AcceptResult {
    AcceptOutcome outcome = AcceptOutcome::Accepted;
    MicroCredits paid = 0;            // Accepted: the credit
    QList<ContributorId> superseded;  // Accepted: other live holders, to be told to stop
};

struct ActiveLease {
    WorkUnitId workUnit = 0;
    JobId job = 0;
    ContributorId contributor = 0;
    QDateTime grantedAt;
    QDateTime deadline;
};

class LeaseBook {
public:
    LeaseBook(CoordinatorStore& store, Ledger& ledger);

    // raven::Error for an unknown unit or contributor, or a deadline not after `now`.
    LeaseOutcome lease(WorkUnitId workUnit, ContributorId contributor, const QDateTime& deadline, const QDateTime& now,
                       LeaseMode mode = LeaseMode::Exclusive);
    // Ends every live lease whose deadline is <= now; returns the units that became expired (no
    // live lease left), in id order: the scheduler re-issues them.
    QList<WorkUnitId> expireLeases(const QDateTime& now);
    // false when the contributor held no live lease on the unit.
    bool handBack(WorkUnitId workUnit, ContributorId contributor, const QDateTime& now);
    // The contributor left: hands back all its live leases; returns the units that became pending.
    QList<WorkUnitId> handBackAll(ContributorId contributor, const QDateTime& now);
    // Pays for the unit's recorded FLOPs. raven::Error for an unknown unit.
    AcceptResult acceptResult(WorkUnitId workUnit, ContributorId contributor, const QDateTime& now);
    // Records a result that failed validation; ends the contributor's lease (live or expired) and
    // makes the unit pending when no live lease is left. false (nothing recorded) when the
    // contributor had no such lease.
    // `replayMismatch`: a replay of the result differed (the audit then refuses any confirmed
    // credit of the unit to the contributor).
    bool rejectResult(WorkUnitId workUnit, ContributorId contributor, const QString& reason, const QDateTime& now,
                      bool replayMismatch = false);

    // Live leases, by work unit; only the contributor's when given.
    QList<ActiveLease> activeLeases(std::optional<ContributorId> contributor = std::nullopt) const;
    // Up to `limit` units of the job waiting for a contributor (pending or expired), oldest first.
    QList<WorkUnitId> issuable(JobId job, int limit) const;

private:
    // Unit -> pending if it is leased and has no live lease left.
    bool releaseIfIdle(WorkUnitId workUnit);

    CoordinatorStore& store_;
    Ledger& ledger_;
    SqlConnection& sql_;
};

}  // namespace raven::ledger
