#pragma once
// LocalStepsConfig: a local-steps (DiLoCo) job's round, as the coordinator runs it (raven.proto,
// LocalStepsPlan; docs/training.md says when to choose it).
//
//   std::optional<LocalStepsConfig> local = localStepsOf(h, innerOptimizer);   // nullopt: plain steps
//   local->roundSamples();                  // lanes x inner steps x inner batch: the plan's "global batch"
//   laneShards(*local, manifest);           // shards per unit: one lane's H inner batches
//   wire::LocalStepsUnit lane = laneUnit(*local, inner, innerRate, manifest);   // what a worker needs
//   nn::makeOptimizer(outerOptimizer(*local), names);   // the job's optimizer: outer Nesterov SGD
//
// Model version t = rounds taken. Round t's shards are the step plan's step t (StepPlan.h, with a
// global batch of roundSamples()), cut in order into M lanes of H x inner batch samples: lane i is
// work unit i of the round. The cut depends on the job alone, never on how many workers there are
// (fewer workers run lanes in turn), so the job's bits are the same with 1 or 8 workers. The last
// round of an epoch may hold fewer shards: its last lanes are shorter, or absent.
//
// The outer step: mean of the lanes' pseudo-gradients (summed in lane order by OrderedGradientSum,
// divided by the number of lanes), then SGD with Nesterov momentum (lr 0.7, momentum 0.9 unless the
// job says otherwise), whose momentum buffer is the optimizer state the job's state file already
// keeps with the weights: round t + 1 is a pure function of round t's state file and its results,
// exactly as a gradient step is.
//
// Bounded staleness d = 1 (opt-in, local-steps jobs only): round t's lanes start from version
// t - 1 (rounds 0 and 1 both from version 0) and the outer step of round t still turns version t
// into t + 1: W(t+1) = W(t) - outer(mean of the lanes' pseudo-gradients from W(t-1)). Round t + 1
// needs only W(t), which exists as soon as round t - 1's step is taken, so the engine leases round
// t + 1 the moment round t's lanes are all in, while round t's outer step is computed. The state
// file keeps W(t) and the momentum; the weights W(t-1) that round t's lanes start from are kept
// beside it (JobFiles::roundWeightsPath), written before the state file moves on.
#include <cstdint>
#include <optional>

#include "data/Manifest.h"
#include "nn/Optimizer.h"
#include "protocol/raven.pb.h"

namespace raven::coordinator {

inline constexpr double kDefaultOuterLearningRate = 0.7;
inline constexpr double kDefaultOuterMomentum = 0.9;

struct LocalStepsConfig {
    std::int64_t lanes = 1;       // M: units per round
    std::int64_t innerSteps = 1;  // H: inner optimizer steps per lane
    std::int64_t innerBatch = 0;  // samples per inner step
    double outerLearningRate = kDefaultOuterLearningRate;
    double outerMomentum = kDefaultOuterMomentum;  // 0: plain SGD
    // d: round t's lanes start from the weights of version max(0, t - d) (0 or 1; raven.proto).
    std::int64_t staleness = 0;

    // The weights version the lanes of `round` start from.
    std::int64_t weightsVersionOfRound(std::int64_t round) const { return round > staleness ? round - staleness : 0; }

    std::int64_t laneSamples() const { return innerSteps * innerBatch; }
    std::int64_t roundSamples() const { return lanes * laneSamples(); }
};

// The job's local-steps settings, or nullopt when it has none (plain data-parallel steps).
// raven::Error naming the field for lanes, inner steps or inner batch of 0 (or absurdly large), an
// inner optimizer other than adam/adamw, a negative or non-finite outer rate, an outer momentum of 1
// or more, a staleness above 1, a global_batch that is neither 0 nor the round's samples, and
// verifiable kernels.
std::optional<LocalStepsConfig> localStepsOf(const wire::Hyperparameters& h, const nn::OptimizerConfig& inner);

// The outer optimizer: SGD at the outer rate, Nesterov momentum when outerMomentum > 0.
nn::OptimizerConfig outerOptimizer(const LocalStepsConfig& config);

// Shards per inner step and per lane for this dataset; raven::Error when the inner batch is not a
// multiple of its shard size.
std::int64_t shardsPerInnerStep(const LocalStepsConfig& config, const data::Manifest& manifest);
std::int64_t laneShards(const LocalStepsConfig& config, const data::Manifest& manifest);

// What a worker needs to run a lane of a round whose inner rate is `innerRate`.
wire::LocalStepsUnit laneUnit(const LocalStepsConfig& config, const nn::OptimizerConfig& inner, double innerRate,
                              const data::Manifest& manifest);

}  // namespace raven::coordinator
