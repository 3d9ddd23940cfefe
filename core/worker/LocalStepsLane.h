#pragma once
// LocalStepsLane: a worker's side of a local-steps (DiLoCo) unit, beside UnitComputer's gradient:
// the unit names a lane of a round (wire::LocalStepsUnit); the model holds the round's weights; the
// lane's H inner steps run on it (training/LocalSteps.h) and its pseudo-gradient leaves as a
// gradient does (the unit's encoding, zstd when asked).
//
//   if (unit.has_local_steps_unit()) sums = LocalStepsLane::compute(model, unit, shards);
//
// The model's parameters end at the lane's final weights: the caller loads the round's weights again
// before the next unit (UnitComputer does).
#include <memory>
#include <vector>

#include "data/Manifest.h"
#include "nn/Model.h"
#include "nn/Optimizer.h"
#include "protocol/raven.pb.h"
#include "training/ShardGradient.h"
#include "worker/DecodedShards.h"

namespace raven::worker {

class LocalStepsLane {
public:
    // The inner optimizer the unit asks for; raven::Error naming the unit for an unknown kind or
    // settings the optimizer refuses.
    static nn::OptimizerConfig innerOptimizer(const wire::WorkUnit& unit);

    // Runs the lane: its shards (checked and decoded, in the unit's order) in inner batches of
    // shards_per_inner_step, at most local_steps of them. raven::Error when the unit's shards make
    // more inner steps than it names, or no shard per inner step.
    static training::GradientSums compute(nn::Model& model, const wire::WorkUnit& unit,
                                          const std::vector<std::shared_ptr<const DecodedShard>>& shards,
                                          const data::Manifest& manifest);
};

}  // namespace raven::worker
