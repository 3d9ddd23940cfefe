#pragma once
// StepUnits: each running job's work units of the step in progress, as the engine last read them
// from the store, kept current by the acceptances instead of read again.
//
//   const QList<ledger::WorkUnit>& units = stepUnits.of(job, version, [&] { return store.workUnits(job, version); });
//   ... each result the store accepted: stepUnits.done(job, unit) ...
//   if (stepUnits.undone(job) == 0) startStep(units);
//
// The engine used to read all of a step's units (512 rows with their shard lists for the load
// bench's step) after every accepted batch only to learn whether any was still undone. A step's
// units are created at once and a done unit never changes (the schema's trigger forbids it), so the
// list read once per step stays true when every acceptance is passed to done(); units of other
// versions are ignored. forget() drops a job's list (the next of() reads the store again).
#include <QDateTime>
#include <QHash>
#include <QList>

#include <functional>
#include <map>

#include "ledger/StoreTypes.h"

namespace raven::coordinator {

class StepUnits {
public:
    using Read = std::function<QList<ledger::WorkUnit>()>;

    // The units of `job`'s step `version` in id order; `read` is called only when they are not known
    // (a new step, a restart, after forget()). An empty read is not kept (the units are to be added).
    const QList<ledger::WorkUnit>& of(ledger::JobId job, qint64 version, const Read& read);
    // The store accepted `contributor`'s result of `unit` at `at` (of any job's step; unknown units
    // are ignored).
    void done(ledger::JobId job, ledger::WorkUnitId unit, ledger::ContributorId contributor, const QDateTime& at);
    // Units of the known step not done yet (0 when the step is unknown: ask of() first).
    qsizetype undone(ledger::JobId job) const;
    void forget(ledger::JobId job) { steps_.erase(job); }

private:
    struct Step {
        qint64 version = 0;
        QList<ledger::WorkUnit> units;
        QHash<ledger::WorkUnitId, qsizetype> index;  // unit -> place in `units`
        qsizetype undone = 0;
    };
    std::map<ledger::JobId, Step> steps_;
};

}  // namespace raven::coordinator
