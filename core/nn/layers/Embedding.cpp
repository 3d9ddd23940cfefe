// embedding: token ids (float values, exact below 2^24, as datasets store them) to vectors, PyTorch's
// nn.Embedding(num_embeddings, dim): weight [num_embeddings, dim]. A sample [T] becomes [T, dim].
//
// positional_embedding: adds a learned vector per position to a sample [T, dim]: weight
// [max_length, dim], row t added at position t (T <= max_length). PyTorch equivalent: an
// nn.Embedding(max_length, dim) applied to arange(T) and added.
#include "nn/layers/LayerKinds.h"
#include "nn/layers/Ops.h"

namespace raven::nn {

namespace {
class Embedding final : public Layer {
public:
    explicit Embedding(const LayerInput& in) : Layer(in.spec, in.fullName, in.shape) {
        SpecFields f(in.spec, in.origin);
        num_ = f.positiveInt("num_embeddings");
        dim_ = f.positiveInt("dim");
        f.finish();
        parameters_.push_back({"weight", {num_, dim_}, ParameterRole::Embedding});
        outputShape_.push_back(dim_);
        flops_ = 0.0;  // a lookup: no arithmetic
    }

    Variable forward(const Variable& x, LayerState& state) const override {
        return ops::embedding(x, state.parameter(*this, "weight"));
    }

private:
    std::int64_t num_ = 0;
    std::int64_t dim_ = 0;
};

class PositionalEmbedding final : public Layer {
public:
    explicit PositionalEmbedding(const LayerInput& in) : Layer(in.spec, in.fullName, in.shape) {
        SpecFields f(in.spec, in.origin);
        const std::int64_t maxLength = f.positiveInt("max_length");
        f.finish();
        if (inputShape_.size() != 2)
            f.failLayer("needs a per-sample input [length, dim] (after an embedding), got " + shapeText(inputShape_));
        if (inputShape_[0] > maxLength)
            f.fail("max_length", "is " + std::to_string(maxLength) + " but the input holds " +
                                     std::to_string(inputShape_[0]) + " positions");
        parameters_.push_back({"weight", {maxLength, inputShape_[1]}, ParameterRole::Embedding});
        flops_ = static_cast<double>(elementCount(inputShape_));
    }

    Variable forward(const Variable& x, LayerState& state) const override {
        // Positions 0..T-1 of the table, broadcast over the batch.
        return ops::addPositions(x, state.parameter(*this, "weight"));
    }
};
}  // namespace

std::unique_ptr<Layer> makeEmbedding(const LayerInput& in) { return std::make_unique<Embedding>(in); }

std::unique_ptr<Layer> makePositionalEmbedding(const LayerInput& in) {
    return std::make_unique<PositionalEmbedding>(in);
}

}  // namespace raven::nn
