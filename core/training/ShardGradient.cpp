#include "training/ShardGradient.h"

#include <algorithm>

#include "autograd/Ops.h"
#include "base/Error.h"
#include "data/Batch.h"

namespace raven::training {

std::int64_t parameterCount(const nn::Model& model) {
    std::int64_t n = 0;
    for (const nn::NamedVariable& p : model.parameters()) n += p.value.tensor().numel();
    return n;
}

GradientSums computeGradientSums(nn::Model& model, const data::Samples& samples,
                                 const data::Normalization& normalization) {
    RAVEN_CHECK(!samples.empty(), "gradient: a work unit with no samples", "the unit's shards are empty");
    const data::Batch batch = data::makeBatch(samples, 0, samples.count(), normalization);
    Backend& backend = model.backend();
    const Tensor x = backend.upload(batch.xShape, batch.x.data());
    const std::vector<float> labels(batch.y.begin(), batch.y.end());
    const Tensor y = backend.upload(batch.yShape, labels.data());

    model.train();
    model.zeroGrad();
    const Variable output = model.forward(x);
    const Variable loss = model.loss(output, y);
    loss.backward();

    GradientSums out;
    out.samples = samples.count();
    const auto n = static_cast<float>(out.samples);
    out.lossSum = static_cast<double>(loss.tensor().item()) * static_cast<double>(out.samples);
    out.gradient.reserve(static_cast<std::size_t>(parameterCount(model)));
    for (const nn::NamedVariable& p : model.parameters()) {
        const Tensor grad = p.value.grad();
        if (!grad.defined()) {  // a parameter the loss does not reach: its gradient is zero
            out.gradient.insert(out.gradient.end(), static_cast<std::size_t>(p.value.tensor().numel()), 0.0f);
            continue;
        }
        for (float g : grad.toVector()) out.gradient.push_back(g * n);
    }
    if (model.spec().loss.kind == nn::LossKind::CrossEntropy) {
        const std::vector<float> logits = output.toVector();
        const std::int64_t classes = output.size(-1);
        for (std::size_t r = 0; r < batch.y.size(); ++r) {
            const float* row = logits.data() + static_cast<std::int64_t>(r) * classes;
            const std::int64_t best = std::max_element(row, row + classes) - row;
            out.correct += best == batch.y[r] ? 1 : 0;
        }
    }
    return out;
}

std::vector<Tensor> averageSum(const nn::Model& model, std::vector<float>& sum, std::int64_t totalSamples) {
    RAVEN_CHECK(totalSamples > 0, "gradient: averaging over no samples", "");
    const auto count = static_cast<std::size_t>(parameterCount(model));
    RAVEN_CHECK(sum.size() == count,
                "gradient: a sum has " + std::to_string(sum.size()) + " values but model " + model.spec().name +
                    " has " + std::to_string(count) + " parameters",
                "");
    const float scale = 1.0f / static_cast<float>(totalSamples);
    // + 0.0 first: a sum that did not start at +0.0 may be -0.0, which averageGradients' sum never is.
    for (float& v : sum) v = (0.0f + v) * scale;
    std::vector<Tensor> out;
    std::size_t offset = 0;
    for (const nn::NamedVariable& p : model.parameters()) {
        out.push_back(model.backend().upload(p.value.tensor().shape(), sum.data() + offset));
        offset += static_cast<std::size_t>(p.value.tensor().numel());
    }
    return out;
}

std::vector<Tensor> averageGradients(const nn::Model& model, const std::vector<const std::vector<float>*>& parts,
                                     std::int64_t totalSamples) {
    RAVEN_CHECK(totalSamples > 0, "gradient: averaging over no samples", "");
    const auto count = static_cast<std::size_t>(parameterCount(model));
    std::vector<float> sum(count, 0.0f);
    for (const std::vector<float>* part : parts) {
        RAVEN_CHECK(part && part->size() == count,
                    "gradient: a result has " + std::to_string(part ? part->size() : 0) + " values but model " +
                        model.spec().name + " has " + std::to_string(count) + " parameters",
                    "");
        for (std::size_t i = 0; i < count; ++i) sum[i] += (*part)[i];
    }
    return averageSum(model, sum, totalSamples);
}

}  // namespace raven::training
