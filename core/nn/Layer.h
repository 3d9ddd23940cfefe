#pragma once
// Layer: one built layer of a model: its spec checked against its input shape, the shape it gives,
// the parameters and buffers it owns (names, shapes, how to initialise them), its forward FLOPs, and
// its forward pass over a batch.
//
// Shapes here are per sample (no batch dimension): a Linear layer sees [in] or [T, in]; forward()
// receives the batch [B, ...inputShape] and returns [B, ...outputShape].
//
// A layer does not hold tensors. Its parameters live in the Model (nn/Model.h) under full PyTorch-style
// names ("b0_attn.attn.in_proj_weight"); forward() fetches them from the LayerState by local name,
// so the same layer objects describe a model for FLOP counting (no backend at all) and run it.
//
// Each kind is one small file in nn/layers/ with a factory registered in nn/LayerRegistry.cpp.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nn/ModelSpec.h"

namespace raven {
class Tensor;
class Variable;
}  // namespace raven

namespace raven::nn {

// What a parameter is for; Init.h turns the role and the model's InitScheme into a distribution.
enum class ParameterRole {
    Weight,        // a Linear/Conv weight: drawn by the scheme from fanIn/fanOut
    Bias,          // a Linear/Conv bias: U(+-1/sqrt(fanIn)) under kaiming_uniform, else zeros
    XavierWeight,  // always xavier_uniform (PyTorch's MultiheadAttention in_proj_weight)
    Embedding,     // N(0, 1) (PyTorch's nn.Embedding)
    Ones,          // norm scales, BatchNorm running_var
    Zeros,         // norm shifts, attention biases, BatchNorm running_mean and num_batches_tracked
};

struct ParameterDecl {
    std::string name;  // local: "weight", "in_proj_bias", "out_proj.weight"
    Shape shape;
    ParameterRole role = ParameterRole::Weight;
    std::int64_t fanIn = 0;
    std::int64_t fanOut = 0;
    bool hasScheme = false;  // a per-layer "init" field overrides the model's scheme
    InitScheme scheme = InitScheme::KaimingUniform;
};

// What forward() needs from the model that runs it.
class LayerState {
public:
    virtual ~LayerState() = default;
    // The parameter `localName` of `layer` (looked up as "<layer full name>.<localName>").
    virtual const Variable& parameter(const class Layer& layer, const std::string& localName) = 0;
    // A buffer (BatchNorm running statistics), updated in place in training mode.
    virtual Tensor& buffer(const class Layer& layer, const std::string& localName) = 0;
    virtual bool training() const = 0;
    // A fresh seed for a dropout mask (different for every call in a step, reproducible per model seed).
    virtual std::uint64_t nextDropoutSeed() = 0;
};

class Layer {
public:
    virtual ~Layer() = default;
    Layer(const Layer&) = delete;
    Layer& operator=(const Layer&) = delete;

    const std::string& name() const { return fullName_; }  // dotted: "b0_attn.ln"
    const std::string& kind() const { return kind_; }
    const std::string& place() const { return place_; }
    const Shape& inputShape() const { return inputShape_; }
    const Shape& outputShape() const { return outputShape_; }
    const std::vector<ParameterDecl>& parameters() const { return parameters_; }
    const std::vector<ParameterDecl>& buffers() const { return buffers_; }
    // Inner layers (a residual block's sequence), in order; empty for plain layers.
    virtual std::vector<const Layer*> children() const { return {}; }
    // Floating-point operations of the forward pass for one sample, this layer only (not children;
    // see docs/model-spec.md for what is counted).
    double forwardFlops() const { return flops_; }

    // x is [B, ...inputShape()]; returns [B, ...outputShape()].
    virtual Variable forward(const Variable& x, LayerState& state) const = 0;

protected:
    Layer(const LayerSpec& spec, std::string fullName, Shape inputShape)
        : fullName_(std::move(fullName)),
          kind_(spec.kind),
          place_(spec.place),
          inputShape_(std::move(inputShape)),
          outputShape_(inputShape_) {}

    std::string fullName_;
    std::string kind_;
    std::string place_;
    Shape inputShape_;
    Shape outputShape_;
    std::vector<ParameterDecl> parameters_;
    std::vector<ParameterDecl> buffers_;
    double flops_ = 0.0;
};

}  // namespace raven::nn
