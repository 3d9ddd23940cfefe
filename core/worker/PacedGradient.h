#pragma once
// PacedGradient: a work unit's summed-loss gradient computed in chunks, with the duty cycle's rests
// between them, so that a GPU usage cap holds inside a long unit and not only between units.
//
//   GradientSums g = computeGradientSumsPaced(model, samples, manifest.normalization, duty);
//
// The summed-loss gradient is additive over samples, so the chunks' sums add up to the whole unit's
// (to float rounding: the unit's kernel mode is FAST, which promises no bit-exact result). Two cases
// compute in one piece, as training::computeGradientSums does: no cap (percent 100), and a model with
// buffers (BatchNorm's batch statistics depend on the batch, so a chunk would change the gradient).
// Chunks aim at kChunkSeconds each, sized from the speed of the first (kFirstChunk samples).
#include "data/Normalization.h"
#include "data/Samples.h"
#include "nn/Model.h"
#include "training/ShardGradient.h"
#include "worker/DutyCycle.h"

namespace raven::worker {

inline constexpr double kChunkSeconds = 0.5;
inline constexpr std::int64_t kFirstChunk = 32;

// Whether the unit is computed in chunks (see above).
bool computesInChunks(const nn::Model& model, const data::Samples& samples, const DutyCycle& duty);

// *restedSeconds (when given) gets the time spent resting between the chunks, which is not
// computation: the unit's speed leaves it out.
training::GradientSums computeGradientSumsPaced(nn::Model& model, const data::Samples& samples,
                                                const data::Normalization& normalization, DutyCycle& duty,
                                                double* restedSeconds = nullptr);

}  // namespace raven::worker
