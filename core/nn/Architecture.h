#pragma once
// Architecture: a ModelSpec built into layers, without any tensors: every layer checked against its
// input shape, the output shape, the parameters and buffers with their full PyTorch-style names and
// shapes, the parameter count and the FLOPs per sample. Needs no backend, so the coordinator and the
// console can price and describe a job before anything runs.
//
//   Architecture arch(ModelSpec::load("examples/mlp.json"));
//   arch.parameterCount();          // 235146
//   arch.forwardFlopsPerSample();   // 2 per multiply-add, see docs/model-spec.md
//   for (const auto& p : arch.parameters()) std::cout << p.name << shapeText(p.shape);  // fc1.weight [256,784]
#include <memory>
#include <string>
#include <vector>

#include "nn/Layer.h"
#include "nn/ModelSpec.h"

namespace raven::nn {

struct ParameterInfo {
    std::string name;  // full: "fc1.weight", "b0_attn.attn.out_proj.bias"
    const Layer* layer = nullptr;
    ParameterDecl decl;  // decl.name is the local name
};

class Architecture {
public:
    explicit Architecture(ModelSpec spec);

    const ModelSpec& spec() const { return spec_; }
    // The top-level layers in order (residual blocks hold their own).
    const std::vector<std::unique_ptr<Layer>>& layers() const { return layers_; }
    // Every layer, depth first, in forward order.
    std::vector<const Layer*> allLayers() const;
    // In PyTorch's named_parameters() order for the equivalent module.
    const std::vector<ParameterInfo>& parameters() const { return parameters_; }
    const std::vector<ParameterInfo>& buffers() const { return buffers_; }
    const Shape& inputShape() const { return spec_.inputShape; }
    const Shape& outputShape() const { return outputShape_; }

    // Every count here is checked when the spec is built: a spec whose shapes, parameters or their
    // total do not fit in 64 bits is a raven::Error naming the layer, never a wrapped number.
    std::int64_t parameterCount() const;
    // Forward FLOPs of one sample (a multiply-add counts 2); the loss is not counted.
    double forwardFlopsPerSample() const;
    // Forward + backward: 3x the forward (the backward computes gradients for inputs and weights, each
    // about one forward), the convention that credits and benchmarks use.
    double trainingFlopsPerSample() const { return 3.0 * forwardFlopsPerSample(); }

    // A table: one row per layer (name, kind, output shape, parameters, forward FLOPs), then totals.
    std::string summary() const;

private:
    ModelSpec spec_;
    std::vector<std::unique_ptr<Layer>> layers_;
    std::vector<ParameterInfo> parameters_;
    std::vector<ParameterInfo> buffers_;
    Shape outputShape_;
    std::int64_t parameterCount_ = 0;  // checked for overflow when built
};

std::string shapeText(const Shape& shape);

}  // namespace raven::nn
