#include "training/LocalSteps.h"

#include <algorithm>
#include <cmath>

#include "base/Error.h"
#include "autograd/Variable.h"
#include "data/Batch.h"
#include "tensor/Backend.h"

namespace raven::training {

namespace {

std::vector<float> flatParameters(const nn::Model& model) {
    std::vector<float> out;
    out.reserve(static_cast<std::size_t>(parameterCount(model)));
    for (const Tensor& t : model.parameterTensors()) {
        const std::vector<float> values = t.toVector();
        out.insert(out.end(), values.begin(), values.end());
    }
    return out;
}

}  // namespace

GradientSums runLocalSteps(nn::Model& model, const std::vector<data::Samples>& innerBatches,
                           const data::Normalization& normalization, const nn::OptimizerConfig& inner) {
    RAVEN_CHECK(!innerBatches.empty(), "local steps: a lane with no inner steps", "the lane's unit has no shards");
    const std::vector<float> start = flatParameters(model);
    // Fresh for every lane: the inner state never outlives the lane, so a lane depends on nothing but
    // the round's weights and its own samples.
    const std::unique_ptr<nn::Optimizer> optimizer = nn::makeOptimizer(inner, model.parameterNames());
    Backend& backend = model.backend();
    GradientSums out;
    model.train();
    for (const data::Samples& samples : innerBatches) {
        RAVEN_CHECK(!samples.empty(), "local steps: an inner step with no samples", "the lane's shards are empty");
        const data::Batch batch = data::makeBatch(samples, 0, samples.count(), normalization);
        const Tensor x = backend.upload(batch.xShape, batch.x.data());
        const std::vector<float> labels(batch.y.begin(), batch.y.end());
        const Tensor y = backend.upload(batch.yShape, labels.data());
        model.zeroGrad();
        const Variable output = model.forward(x);
        const Variable loss = model.loss(output, y);
        loss.backward();
        const double meanLoss = static_cast<double>(loss.tensor().item());
        RAVEN_CHECK(std::isfinite(meanLoss), "local steps: the loss of an inner step is not finite",
                    "lower the inner learning rate");
        out.lossSum += meanLoss * static_cast<double>(samples.count());
        out.samples += samples.count();
        if (model.spec().loss.kind == nn::LossKind::CrossEntropy) {
            const std::vector<float> logits = output.toVector();
            const std::int64_t classes = output.size(-1);
            for (std::size_t r = 0; r < batch.y.size(); ++r) {
                const float* row = logits.data() + static_cast<std::int64_t>(r) * classes;
                out.correct += (std::max_element(row, row + classes) - row) == batch.y[r] ? 1 : 0;
            }
        }
        optimizer->step(model.parameterTensors(), model.gradients());
    }
    const std::vector<float> end = flatParameters(model);
    out.gradient.resize(start.size());
    for (std::size_t i = 0; i < start.size(); ++i) out.gradient[i] = start[i] - end[i];
    return out;
}

std::vector<data::Samples> innerBatches(const std::vector<const data::Samples*>& shards,
                                        std::int64_t shardsPerInnerStep) {
    RAVEN_CHECK(shardsPerInnerStep >= 1, "local steps: an inner step needs at least one shard", "");
    std::vector<data::Samples> out;
    for (std::size_t i = 0; i < shards.size(); i += static_cast<std::size_t>(shardsPerInnerStep)) {
        const std::size_t end = std::min(shards.size(), i + static_cast<std::size_t>(shardsPerInnerStep));
        std::vector<float> features;
        std::vector<std::int32_t> labels;
        for (std::size_t k = i; k < end; ++k) {
            features.insert(features.end(), shards[k]->allFeatures().begin(), shards[k]->allFeatures().end());
            labels.insert(labels.end(), shards[k]->allLabels().begin(), shards[k]->allLabels().end());
        }
        data::Samples batch(shards[i]->featureShape(), shards[i]->labelShape());
        batch.assign(std::move(features), std::move(labels));
        out.push_back(std::move(batch));
    }
    return out;
}

}  // namespace raven::training
