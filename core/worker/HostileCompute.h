#pragma once
// HostileCompute: a worker that cheats, for the verification test bed only (tests/e2e,
// docs/verification.md). It exists only in builds configured with RAVEN_HOSTILE_WORKER=ON (the ci
// preset); release and packaging builds leave it out, and raven-worker there has no --cheat.
//
//   raven-worker --cheat sign ...                       every result sign-flipped
//   raven-worker --cheat scale --cheat-rate 0.3 ...     about 3 units in 10 scaled, the others honest
//   raven-worker --cheat random --cheat-after 4 ...     honest for 4 units, then noise
//
// The honest result is computed first (UnitComputer), then rewritten before it is sent:
//   random  noise with the honest gradient's RMS (as plausible a norm as the real one)
//   scale   the gradient times 2
//   sign    the gradient negated
//   zero    all zeros (the lazy worker)
//   stale   the gradient of the previous unit it computed (a stale version's result replayed)
//   copy    the gradient of another worker's result for another unit, taken from --cheat-share
//           (every hostile worker given that folder drops its honest results there)
// Which units are rewritten: those after the first --cheat-after, and of those, the ones whose
// id hashes below --cheat-rate (1: all), so "cheating only sometimes" is reproducible.
#include <QString>

#include <optional>
#include <vector>

#include "worker/UnitComputer.h"

namespace raven::worker {

struct HostileOptions {
    QString kind;            // random, scale, sign, zero, stale, copy
    double rate = 1.0;       // share of the units (after `after`) that are rewritten
    int after = 0;           // honest units first
    QString shareDir;        // copy: where hostile workers drop and take results
    double factor = 0.0;     // scale: the factor (0: 2); sign: the negated gradient times this (0: 1)
};

class HostileCompute {
public:
    // raven::Error naming the kinds for an unknown one, or a rate outside [0, 1].
    explicit HostileCompute(HostileOptions options);

    // On the compute thread, after computer.compute(): rewrites `done` when this unit is cheated on.
    void tamper(const wire::WorkUnit& unit, ComputedUnit& done);
    // Units rewritten so far (the worker's log says which).
    int cheated() const { return cheated_; }

private:
    bool cheatsOn(const wire::WorkUnit& unit) const;

    HostileOptions options_;
    int seen_ = 0;
    int cheated_ = 0;
    std::optional<std::vector<float>> previous_;  // stale: the last unit's honest gradient
};

}  // namespace raven::worker
