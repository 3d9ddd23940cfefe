#pragma once
// Model: an Architecture with its tensors on a Backend: trainable parameters (autograd leaves),
// buffers (BatchNorm running statistics), train/eval mode, the forward pass and the spec's loss.
//
//   nn::Model model(nn::ModelSpec::load("examples/mlp.json"));   // seeded init on the CPU backend
//   Variable logits = model.forward(x);                           // x [B, 1, 28, 28]
//   Variable loss = model.loss(logits, y);                         // y [B] class ids as floats
//   model.zeroGrad();  loss.backward();
//   optimizer->step(model.parameterTensors(), model.gradients());
//
// Names and layouts are PyTorch's for the equivalent module ("fc1.weight" [out, in], "conv1.weight"
// [out, in/groups, kh, kw], "ln.weight", "bn.running_mean", "emb.weight" [num, dim]), so a state dict
// moves between Raven and torch by name (stateDict / loadStateDict, and nn/ModelCheckpoint.h for files).
//
// Inputs: x is [B, ...spec input shape]. The loss: cross_entropy takes logits [B, C] with targets [B],
// or logits [B, T, C] with targets [B, T] (a language model: every position predicts its next
// token), class ids as floats; mse takes targets of the output's shape. Both reduce by the mean.
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "autograd/Variable.h"
#include "nn/Architecture.h"
#include "nn/Layer.h"

namespace raven::nn {

struct NamedVariable {
    std::string name;
    Variable value;
};

struct NamedTensor {
    std::string name;
    Tensor value;
};

class Model final : private LayerState {
public:
    // Builds the spec and initialises it with the spec's init seed (nn/Init.h) on `backend`.
    explicit Model(ModelSpec spec, Backend& backend = cpuBackend());
    Model(const Model&) = delete;
    Model& operator=(const Model&) = delete;

    const Architecture& architecture() const { return architecture_; }
    const ModelSpec& spec() const { return architecture_.spec(); }
    Backend& backend() const { return *backend_; }

    // Re-draws every parameter and resets the buffers from `seed`.
    void initialize(std::uint64_t seed);

    // In Architecture order (PyTorch's named_parameters order).
    const std::vector<NamedVariable>& parameters() const { return parameters_; }
    const std::vector<NamedTensor>& buffers() const { return buffers_; }
    // A raven::Error listing some names when `name` is unknown.
    const Variable& parameter(const std::string& name) const;
    // The parameters' values and their gradients (undefined where none arrived), in parameter order:
    // what Optimizer::step takes.
    std::vector<Tensor> parameterTensors() const;
    std::vector<Tensor> gradients() const;
    std::vector<std::string> parameterNames() const;
    void zeroGrad();

    void train(bool on = true) { training_ = on; }
    void eval() { training_ = false; }
    bool isTraining() const { return training_; }

    // x [B, ...inputShape] -> [B, ...outputShape]. A wrong input shape is a raven::Error naming both.
    Variable forward(const Variable& x);
    Variable forward(const Tensor& x) { return forward(Variable(x)); }
    // The spec's loss of `output` against `targets` (see above), a one-element Variable.
    Variable loss(const Variable& output, const Tensor& targets) const;

    // Parameters and buffers by name (values shared, not copied).
    std::map<std::string, Tensor> stateDict() const;
    // Copies each named tensor into the parameter or buffer of that name (on this model's backend).
    // Unknown or missing names (when strict) and shape mismatches are a raven::Error naming them.
    void loadStateDict(const std::map<std::string, Tensor>& state, bool strict = true);

private:
    const Variable& parameter(const Layer& layer, const std::string& localName) override;
    Tensor& buffer(const Layer& layer, const std::string& localName) override;
    bool training() const override { return training_; }
    std::uint64_t nextDropoutSeed() override;

    Architecture architecture_;
    Backend* backend_;
    std::vector<NamedVariable> parameters_;
    std::vector<NamedTensor> buffers_;
    std::unordered_map<std::string, std::size_t> parameterIndex_;
    std::unordered_map<std::string, std::size_t> bufferIndex_;
    bool training_ = true;
    std::uint64_t dropoutCounter_ = 0;
};

}  // namespace raven::nn
