#pragma once
// Scheduler: which work units a worker gets when it asks for work.
//
//   Scheduler::Worker w{contributor, gflops, maxConcurrentLeases};
//   Scheduler::Grant g = scheduler.lease(w, request.max_units(), jobsInOrder, totalGflops, deadline, now, cutoff);
//
// - Jobs: the running ones, by priority (higher first), then age (older first); a worker is filled
//   from the first job that has units waiting (pending, expired or handed back) before the next.
// - How many: a speed-proportional share of the units waiting now, ceil(waiting * mine / total)
//   where mine and total are the measured GFLOP/s of this worker and of every connected worker (a
//   worker that reported none counts as 1), at least 1, at most the request's max_units and what
//   its max_concurrent_leases leaves. A fast worker takes more of a step; a slow one a little.
// - Stragglers: a worker that gets nothing and holds nothing while a job's step still waits for
//   leased units gets a speculative lease on the oldest of them that has been out for longer than
//   the caller's threshold (a few typical unit times), once per unit: whichever result
//   arrives first counts (LeaseBook), so one slow or vanished worker does not hold a step back for
//   a whole deadline.
// - Budget: LeaseBook refuses a lease the job's escrow cannot cover and turns the job
//   out_of_budget; the scheduler reports it and stops leasing that job.
#include <QDateTime>
#include <QList>

#include <set>
#include <vector>

#include "ledger/LeaseBook.h"

namespace raven::coordinator {

class Scheduler {
public:
    struct Worker {
        ledger::ContributorId id = 0;
        double gflops = 0.0;          // measured; <= 0 when unknown
        int maxConcurrentLeases = 0;  // 0: no limit of its own
    };
    struct JobSlot {
        ledger::JobId job = 0;
        qint64 version = 0;  // the step being computed
    };
    struct Grant {
        QList<ledger::WorkUnit> units;
        QList<ledger::WorkUnitId> speculative;  // those of `units` that duplicate a straggler
        QList<ledger::JobId> outOfBudget;       // jobs that just ran out of budget
    };

    Scheduler(ledger::CoordinatorStore& store, ledger::LeaseBook& leases);

    // `jobs` in leasing order (priority, then age); `totalGflops` over all connected workers.
    // Stragglers are duplicated only when their lease deadline is before `speculateIfDeadlineBefore`,
    // that is, when they have been out for long enough (an invalid time: never).
    Grant lease(const Worker& worker, int maxUnits, const std::vector<JobSlot>& jobs, double totalGflops,
                const QDateTime& deadline, const QDateTime& now, const QDateTime& speculateIfDeadlineBefore);
    // A step was applied: its units can no longer be duplicated.
    void forgetJob(ledger::JobId job);

    static double weightOf(double gflops) { return gflops > 0.0 ? gflops : 1.0; }

private:
    ledger::CoordinatorStore& store_;
    ledger::LeaseBook& leases_;
    std::set<std::pair<ledger::JobId, ledger::WorkUnitId>> speculated_;
};

}  // namespace raven::coordinator
