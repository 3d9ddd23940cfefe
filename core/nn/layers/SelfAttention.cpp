// self_attention: multi-head self-attention over a sample [T, d_model] with PyTorch's
// nn.MultiheadAttention(d_model, heads, batch_first=True) parameters, so weights move by name:
//   in_proj_weight [3d, d] (q, k, v stacked), in_proj_bias [3d], out_proj.weight [d, d], out_proj.bias [d].
// Fields: "heads" (dividing d_model), "causal" (default true: position t sees 0..t), "bias" (default true).
//
//   qkv = x in_proj_weight^T + in_proj_bias                     [B, T, 3d]
//   q, k, v = split(qkv) -> [B, heads, T, d/heads] each
//   a = softmax(q k^T / sqrt(d/heads) + causal mask) v           [B, heads, T, d/heads]
//   y = merge_heads(a) out_proj.weight^T + out_proj.bias         [B, T, d]
#include "nn/layers/LayerKinds.h"
#include "nn/layers/Ops.h"

namespace raven::nn {

namespace {
class SelfAttention final : public Layer {
public:
    explicit SelfAttention(const LayerInput& in) : Layer(in.spec, in.fullName, in.shape) {
        SpecFields f(in.spec, in.origin);
        if (inputShape_.size() != 2)
            f.failLayer("needs a per-sample input [length, d_model], got " + shapeText(inputShape_));
        const std::int64_t d = inputShape_[1];
        const std::int64_t t = inputShape_[0];
        heads_ = f.positiveInt("heads");
        causal_ = f.boolean("causal", true);
        bias_ = f.boolean("bias", true);
        f.finish();
        if (d % heads_ != 0)
            f.fail("heads", std::to_string(heads_) + " heads do not divide d_model " + std::to_string(d));
        const std::int64_t d3 = sizeMul(3, d);
        parameters_.push_back({"in_proj_weight", {d3, d}, ParameterRole::XavierWeight, d, d3});
        if (bias_) parameters_.push_back({"in_proj_bias", {d3}, ParameterRole::Zeros});
        parameters_.push_back({"out_proj.weight", {d, d}, ParameterRole::Weight, d, d});
        if (bias_) parameters_.push_back({"out_proj.bias", {d}, ParameterRole::Zeros});
        const double T = static_cast<double>(t), D = static_cast<double>(d), H = static_cast<double>(heads_);
        const double projections = 2.0 * T * D * 3.0 * D + 2.0 * T * D * D + (bias_ ? 4.0 * T * D : 0.0);
        // Scores and the weighted sum are each 2*T*T*d (the causal half is computed too); softmax 5 per score.
        const double attention = 2.0 * T * T * D + 5.0 * H * T * T + 2.0 * T * T * D;
        flops_ = projections + attention;
    }

    Variable forward(const Variable& x, LayerState& state) const override {
        const Variable noBias;
        return ops::selfAttention(x, state.parameter(*this, "in_proj_weight"),
                                  bias_ ? state.parameter(*this, "in_proj_bias") : noBias,
                                  state.parameter(*this, "out_proj.weight"),
                                  bias_ ? state.parameter(*this, "out_proj.bias") : noBias, heads_, causal_);
    }

private:
    std::int64_t heads_ = 1;
    bool causal_ = true;
    bool bias_ = true;
};
}  // namespace

std::unique_ptr<Layer> makeSelfAttention(const LayerInput& in) { return std::make_unique<SelfAttention>(in); }

}  // namespace raven::nn
