#pragma once
// ShardGradient: the arithmetic a work unit stands for, shared by the worker that computes it and
// the coordinator that combines the results.
//
//   worker:       GradientSums g = computeGradientSums(model, samples, manifest.normalization);
//   coordinator:  std::vector<Tensor> mean = averageGradients(model, {&g1.gradient, &g2.gradient}, n1 + n2);
//                 optimizer.step(model.parameterTensors(), mean);
//
// A unit's result is the gradient of the *summed* loss over its samples, d(sum_i loss_i)/dθ, that
// is the model's mean-loss gradient times the sample count (for a language model, a sample is one
// sequence). Summing the units of a step and dividing by the step's samples therefore gives the
// mean-loss gradient of the whole global batch, which is what `raven train --local` steps on.
// Gradients are flattened in Model::parameters() order, each parameter row-major: the layout of
// GradientPayload (docs/protocol.md).
#include <cstdint>
#include <vector>

#include "data/Normalization.h"
#include "data/Samples.h"
#include "nn/Model.h"

namespace raven::training {

struct GradientSums {
    std::vector<float> gradient;  // summed-loss gradient, flattened in parameter order
    std::int64_t samples = 0;
    double lossSum = 0.0;      // sum of the per-sample losses
    std::int64_t correct = 0;  // argmax predictions equal to the label (every position of a sequence)
};

// Total number of parameter values: the length of a flattened gradient.
std::int64_t parameterCount(const nn::Model& model);

// Forward and backward over all `samples` as one batch (in training mode), normalized as
// data::makeBatch does. raven::Error for an empty block or samples of the wrong shape.
GradientSums computeGradientSums(nn::Model& model, const data::Samples& samples,
                                 const data::Normalization& normalization);

// sum(parts) / totalSamples as one tensor per parameter, on the model's backend, in parameter
// order: what Optimizer::step takes. Parts are added in the order given, so a caller that keeps a
// fixed order (the work units' order in the step) gets bit-identical results whatever order they
// arrived in. raven::Error when a part's length is not parameterCount(model).
std::vector<Tensor> averageGradients(const nn::Model& model, const std::vector<const std::vector<float>*>& parts,
                                     std::int64_t totalSamples);
// averageGradients of the one part `sum`, the same bits, in `sum`'s own memory (which holds the
// scaled mean after): the coordinator's step, whose sum is built as results arrive, without another
// model-sized buffer and two more passes.
std::vector<Tensor> averageSum(const nn::Model& model, std::vector<float>& sum, std::int64_t totalSamples);

}  // namespace raven::training
