#pragma once
// PrefetchHints: the shards a worker will probably need next, sent with its grant so that it fetches
// them while it computes (docs/protocol.md, "Prefetch hints"). A worker learns its next units only
// when they are granted, after the step is applied; without hints every unit's shards travel after
// the grant, on the critical path (the first epoch has nothing cached).
//
//   PrefetchHints hints;
//   QStringList next = hints.forUnit(runner, shardsPerUnit, unit);   // step V+1's unit at unit's place
//
// A unit's place is its position in its step's cut; the hint is the unit at the same place of the
// next step: a stable fleet tends to take the same places step after step (the scheduler hands out
// a step's units in order), and a wrong guess costs only the transfer of shards the job needs anyway.
// The cuts are computed once per job and version (StepPlan::shardsOfStep walks the epoch's order).
#include <QHash>
#include <QStringList>

#include <cstdint>
#include <map>
#include <vector>

#include "ledger/StoreTypes.h"

namespace raven::coordinator {

class JobRunner;

class PrefetchHints {
public:
    // The shard hashes of the next step's unit at `unit`'s place in its step; empty when `unit` is not
    // of the runner's current step or the plan ends with this step.
    QStringList forUnit(const JobRunner& runner, std::int64_t shardsPerUnit, const ledger::WorkUnit& unit);
    void forgetJob(ledger::JobId job) { cuts_.erase(job); }

private:
    struct Cut {
        qint64 version = -1;
        QHash<QString, int> placeOfFirstShard;  // step `version`: a unit's first shard -> its place
        std::vector<QStringList> next;          // step version + 1's units, in order
    };
    std::map<ledger::JobId, Cut> cuts_;
};

}  // namespace raven::coordinator
