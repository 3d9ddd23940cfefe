#pragma once
// LocalSteps: the arithmetic of one lane of a local-steps (DiLoCo) round, shared by the worker that
// computes a lane and by anyone who checks it (the equivalence test simulates whole rounds with it).
//
//   nn::Model model(spec);  nn::loadParameters(model, roundWeights);        // round t's weights
//   std::vector<data::Samples> steps = innerBatches(manifest, laneShards, shardsPerInnerStep);
//   GradientSums lane = runLocalSteps(model, steps, manifest.normalization, innerAdamW);
//   lane.gradient;   // round weights - final weights, flattened in parameter order (ShardGradient.h)
//
// A lane starts from the round's weights with FRESH inner optimizer state (no state travels between
// rounds or lanes: a lane is a pure function of the round's weights, its shards and the job), takes
// one inner step per inner batch in order (forward and backward over the batch's samples as one
// batch, mean loss, then the optimizer), and returns the pseudo-gradient: the round's weights minus
// the lane's final weights. It points downhill like a gradient, so the coordinator's outer optimizer
// steps on the lanes' average exactly as it would on an averaged gradient (outer Nesterov SGD,
// LocalStepsRound.h). lossSum and correct add up every inner step's, taken before its update, so
// they describe the lane's samples as a gradient unit's figures describe its own.
#include <vector>

#include "data/Normalization.h"
#include "data/Samples.h"
#include "nn/Model.h"
#include "nn/Optimizer.h"
#include "training/ShardGradient.h"

namespace raven::training {

// The lane's inner steps, each a forward/backward and an optimizer step on `model` (which ends at
// the lane's final weights). raven::Error for no inner batch, an empty one, or a non-finite result.
GradientSums runLocalSteps(nn::Model& model, const std::vector<data::Samples>& innerBatches,
                           const data::Normalization& normalization, const nn::OptimizerConfig& inner);

// The samples of `shards` (decoded, in order) cut into inner batches of `shardsPerInnerStep` shards
// each (the last may hold fewer).
std::vector<data::Samples> innerBatches(const std::vector<const data::Samples*>& shards,
                                        std::int64_t shardsPerInnerStep);

}  // namespace raven::training
