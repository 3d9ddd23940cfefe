#pragma once
// ModelRewind: a caught contributor's unchecked results taken out of a job's model (a verifiable or
// a spot-checked fast job)
// (docs/verification.md, "Rewinding a caught contributor's unchecked results").
//
//   RewindInput in = ...;                        // on the event loop: the job's snapshot, the suspects
//   RewindOutcome out = rewindModel(in, shards);  // on the pool: replays, recomputed steps, state files
//
// 1. Each suspect result (the contributor's results whose credit was still pending when it was
//    caught: accepted unchecked) is replayed on the weights of its own version (the archived state,
//    RewindArchive.h) and compared as ResultVerifier compares (ResultComparison.h: bit for bit, or
//    within the fast kernels' tolerance).
// 2. None differs: nothing is rewound; a step due is applied as prepared (`prepared`).
// 3. Else, from the earliest step E with a differing result: E's state is restored; step E is summed
//    (or robustly combined) again in unit id order with the coordinator's own result in place of each
//    differing one; every
//    later step's units were computed on weights that no longer exist, so the coordinator computes
//    them all again on the recomputed weights; each step goes through the same optimizer arithmetic
//    (JobRunner::computeStep) up to the current version (and the step due, when its units are done).
//    The recomputed results replace the archived ones (a later rewind starts from the right ones),
//    the recomputed states replace the archived states, the old lineage's checkpoints after E go,
//    and the job's state file is written last. Because a verifiable replay is the honest worker's
//    result bit for bit and the sum is in unit id order, the model is then the one a run without the
//    cheater gives, bit for bit. In a fast job the model is then made of results that agreed with the
//    coordinator's replays within the tolerance (steps before E) and of the coordinator's own
//    computations (from E on): no wrong result remains, though the bits are not a clean run's.
#include <QList>

#include <map>
#include <optional>
#include <set>

#include "coordinator/JobConfig.h"
#include "coordinator/JobFiles.h"
#include "coordinator/JobRunner.h"
#include "data/Manifest.h"
#include "data/ShardStore.h"
#include "ledger/StoreTypes.h"

namespace raven::coordinator {

struct RewindInput {
    ledger::JobId job = 0;
    JobConfig config;
    std::string specJson;
    data::Manifest manifest;
    JobFiles files{QString(), 0};
    qint64 totalSteps = 0;
    std::int64_t parameterCount = 0;
    qint64 version = 0;         // the job's current version V (its state file)
    QByteArray currentWeights;  // V's weights, as the runner serves them
    // The done units of each archived step and, when step V is due (`prepared`), of step V; id order.
    std::map<qint64, QList<ledger::WorkUnit>> steps;
    std::set<ledger::WorkUnitId> suspects;  // results accepted unchecked from the caught contributor(s)
    // Step V as JobRunner::prepareStep made it, when all its units are done: applied by the rewind.
    std::optional<StepWork> prepared;
};

struct RewindOutcome {
    RewindSummary summary;
    // The state of the last version now durable: V + 1 when a step was due, else V recomputed
    // (nullopt when nothing was rewound and no step was due).
    std::optional<StepProduct> product;
};

// raven::Error when a file is missing or damaged or a step cannot be recomputed; the job's state file
// is then untouched when the error comes before the last write.
RewindOutcome rewindModel(RewindInput& input, const data::ShardStore& shards);

}  // namespace raven::coordinator
