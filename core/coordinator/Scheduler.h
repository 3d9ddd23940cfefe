#pragma once
// Scheduler: which work units a worker gets when it asks for work.
//
//   Scheduler::Worker w{contributor, gflops, maxConcurrentLeases};
//   Scheduler::Grant g = scheduler.lease(w, request.max_units(), jobsInOrder, totalGflops, deadline, now, cutoff);
//
// - Jobs: the running ones, by priority (higher first), then age (older first); a worker is filled
//   from the first job that has units waiting (pending, expired or handed back) before the next.
// - How many: a speed-proportional share of the units waiting now, round(waiting * mine / total)
//   where mine and total are the measured GFLOP/s of this worker and of every connected worker (a
//   worker that reported none counts as 1), at least 1, at most the request's max_units and what
//   its max_concurrent_leases leaves (units whose results it has handed in are no longer held). A
//   fast worker takes more of a step; a slow one a little.
// - Which units: a step's units in order, except that each worker keeps its place (the unit's
//   position in its step's cut): a worker that computed the unit at place p of step V is offered
//   place p of step V+1 first, then places nobody has held, and only then the places of other
//   workers; a unit leased in this step that is waiting again (its lease expired, was handed back or
//   its result refused) is late and goes before places nobody held. The prefetch hints
//   (PrefetchHints.h) name the next step's unit at the same place, so that a worker's hinted shards
//   are the ones it will compute, with any number of workers. A place goes to whoever leases it
//   last; nothing waits for a worker that is gone (its places are taken).
// - Stragglers: a worker that gets nothing and holds nothing while a job's step still waits for
//   leased units gets a speculative lease on the oldest of them that has been out for longer than
//   the caller's threshold (a few typical unit times), once per unit: whichever result
//   arrives first counts (LeaseBook), so one slow or vanished worker does not hold a step back for
//   a whole deadline.
// - Budget: LeaseBook refuses a lease the job's escrow cannot cover and turns the job
//   out_of_budget; the scheduler reports it and stops leasing that job.
#include <QDateTime>
#include <QList>

#include <map>
#include <set>
#include <unordered_map>
#include <vector>

#include "ledger/LeaseBook.h"

namespace raven::coordinator {

class Scheduler {
public:
    struct Worker {
        ledger::ContributorId id = 0;
        double gflops = 0.0;          // measured; <= 0 when unknown
        int maxConcurrentLeases = 0;  // 0: no limit of its own
        // Leased units whose results it has handed in, all bytes arrived, not yet judged: it computes
        // nothing for them any more, so they do not count against its limits (LeaseDesk.h).
        std::set<ledger::WorkUnitId> handedIn;
        int handedInLetOff = 1 << 30;  // at most this many of them (still leased to it) are let off
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

    // The place of `unit` in its step's cut (0, 1, ...), -1 when it is not of `slot`'s step.
    int placeOf(const JobSlot& slot, ledger::WorkUnitId unit);
    // The worker that last leased place `place` of `job` (0 when none).
    ledger::ContributorId holderOfPlace(ledger::JobId job, int place) const;

private:
    // A job's places: who last leased each, and where the current step's units begin (a step's
    // units are added in one transaction, in place order, so their ids are consecutive).
    struct Places {
        qint64 version = -1;
        ledger::WorkUnitId firstUnit = 0;
        std::unordered_map<int, ledger::ContributorId> holder;
        std::set<int> leasedThisStep;  // places leased at `version`: waiting again means re-issued
    };
    // Whether the first unit of `slot`'s step is known (looked up once per step).
    bool knowsStep(const JobSlot& slot);
    // The waiting units of `slot`: this worker's places first, then re-issued ones, then places
    // nobody held, then others'.
    QList<ledger::WorkUnitId> inPlaceOrder(const JobSlot& slot, ledger::ContributorId worker,
                                           const QList<ledger::WorkUnitId>& waiting);
    void forgetEndedJobs(const std::vector<JobSlot>& running);

    ledger::CoordinatorStore& store_;
    ledger::LeaseBook& leases_;
    std::set<std::pair<ledger::JobId, ledger::WorkUnitId>> speculated_;
    std::map<ledger::JobId, Places> places_;
};

}  // namespace raven::coordinator
