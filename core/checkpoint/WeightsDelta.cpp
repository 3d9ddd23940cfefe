#include "checkpoint/WeightsDelta.h"

#include <cstring>
#include <string>

#include "base/Error.h"
#include "tensor/BlockInt8.h"
#include "tensor/BlockInt8Delta.h"

namespace raven {
namespace {

Checkpoint weightsFile(std::span<const std::byte> bytes, const std::string& what) {
    Checkpoint c = Checkpoint::fromSafeTensors(SafeTensors::fromBytes(bytes, what), what);
    RAVEN_CHECK(c.optimizerState.size() == 0, what + " holds optimizer state: it is not a weights file",
                "send the weights alone (nn::toCheckpoint without optimizer)");
    for (const NamedArray& a : c.parameters.arrays())
        RAVEN_CHECK(a.dtype == safetensors::DType::F32, what + ": tensor " + a.name + " is not F32",
                    "8-bit weights deltas are made over float32 weights only");
    return c;
}

// Every tensor's values, in the file's order, one after the other.
std::vector<float> flatValues(const SafeTensors& tensors) {
    std::size_t n = 0;
    for (const NamedArray& a : tensors.arrays()) n += a.data.size() / sizeof(float);
    std::vector<float> out(n);
    std::size_t at = 0;
    for (const NamedArray& a : tensors.arrays()) {
        std::memcpy(out.data() + at, a.data.data(), a.data.size());
        at += a.data.size() / sizeof(float);
    }
    return out;
}

}  // namespace

std::size_t weightsDeltaBytes(std::size_t values) { return blockInt8Bytes(values); }

PublishedStep publishWeights(std::span<const std::byte> published, const Checkpoint& weights, std::uint64_t key) {
    const Checkpoint base = weightsFile(published, "the published weights");
    RAVEN_CHECK(weights.step == base.step + 1,
                "weights of step " + std::to_string(weights.step) + " published after those of step " +
                    std::to_string(base.step),
                "publish every version in turn");
    RAVEN_CHECK(weights.parameters.size() == base.parameters.size(),
                "the new weights have " + std::to_string(weights.parameters.size()) + " tensors, the published " +
                    std::to_string(base.parameters.size()),
                "both must be of the job's model");
    for (std::size_t i = 0; i < base.parameters.size(); ++i) {
        const NamedArray& a = base.parameters.arrays()[i];
        const NamedArray& b = weights.parameters.arrays()[i];
        RAVEN_CHECK(a.name == b.name && a.shape == b.shape && b.dtype == safetensors::DType::F32,
                    "the new weights' tensor " + b.name + " does not match the published " + a.name,
                    "both must be of the job's model, in float32");
    }
    PublishedStep step;
    step.delta = encodeBlockInt8(weightsDifference(flatValues(weights.parameters), flatValues(base.parameters)), key);
    step.published = applyWeightsDelta(published, step.delta, weights.step);
    return step;
}

std::vector<std::byte> applyWeightsDelta(std::span<const std::byte> published, std::span<const std::byte> delta,
                                         std::int64_t version) {
    Checkpoint next = weightsFile(published, "the weights a delta applies to");
    RAVEN_CHECK(next.step + 1 == version,
                "a delta to version " + std::to_string(version) + " cannot apply to the weights of version " +
                    std::to_string(next.step),
                "apply deltas to the version just before");
    const std::vector<float> values = addBlockInt8Delta(flatValues(next.parameters), delta);
    SafeTensors tensors;
    std::size_t at = 0;
    for (const NamedArray& a : next.parameters.arrays()) {
        const std::size_t n = a.data.size() / sizeof(float);
        tensors.putFloat32(a.name, a.shape, std::span<const float>(values.data() + at, n));
        at += n;
    }
    next.parameters = std::move(tensors);
    next.step = version;
    return next.toSafeTensors().toBytes();
}

}  // namespace raven
