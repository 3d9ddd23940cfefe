#pragma once
// Optimizers with PyTorch's semantics (torch.optim.SGD, Adam, AdamW), on Tensors.
//
// An optimizer works on parameter and gradient Tensors, not on autograd Variables, because the
// coordinator steps it on averaged gradients that arrive over the network (no graph there), and the
// local Trainer hands it each Variable's value and gradient. Every update is composed of Backend
// kernels through tensor/TensorOps.h (no host loop over values), so it runs on whatever backend holds
// the parameters, Vulkan included, and never forces a sync. The new value is written into the
// parameter's own storage (Backend::copyInto), so every handle on that parameter sees it.
//
//   OptimizerConfig config;  config.kind = OptimizerKind::Adam;  config.lr = 1e-3;
//   auto opt = makeOptimizer(config, {"fc1.weight", "fc1.bias"});
//   opt->step({w, b}, {dw, db});           // w, b updated in place
//   opt->setLearningRate(schedule.at(opt->stepCount()));
//
// State for checkpoints: state() lists "<parameter>.<slot>" tensors with PyTorch's slot names
// (momentum_buffer; exp_avg, exp_avg_sq) and stepCount() is PyTorch's `step`.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tensor/Tensor.h"

namespace raven::nn {

enum class OptimizerKind { Sgd, Adam, AdamW };
std::string toString(OptimizerKind kind);  // "sgd", "adam", "adamw"

struct OptimizerConfig {
    OptimizerKind kind = OptimizerKind::Adam;
    double lr = 1e-3;
    double weightDecay = 0.0;  // SGD and Adam: L2 added to the gradient; AdamW: decoupled p *= 1 - lr*wd
    // SGD
    double momentum = 0.0;
    double dampening = 0.0;
    bool nesterov = false;  // needs momentum > 0 and dampening 0 (PyTorch's rule)
    // Adam, AdamW
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;

    // PyTorch's defaults per kind: AdamW's weight decay is 0.01, the others' 0.
    static OptimizerConfig defaults(OptimizerKind kind);
    // {"type": "adam", "lr": 0.001, "betas": [0.9, 0.999], "eps": 1e-08, "weight_decay": 0}: the text a
    // checkpoint stores; fromJson accepts the same keys (missing ones take the kind's defaults) and
    // throws a raven::Error naming a bad key.
    std::string toJson() const;
    static OptimizerConfig fromJson(const std::string& json);
    // Throws a raven::Error for a negative rate, betas outside [0, 1), Nesterov without momentum, ...
    void validate() const;
};

class Optimizer {
public:
    virtual ~Optimizer() = default;

    const OptimizerConfig& config() const { return config_; }
    const std::vector<std::string>& parameterNames() const { return names_; }
    double learningRate() const { return config_.lr; }
    // Schedules call this before each step.
    void setLearningRate(double lr) { config_.lr = lr; }
    // Steps taken so far (PyTorch's state "step"); Adam's bias correction uses it.
    std::int64_t stepCount() const { return steps_; }

    // One step: params[i] (named parameterNames()[i]) moves along grads[i]. Shapes must match the
    // names given at construction; a mismatch is a raven::Error naming the parameter. An undefined
    // gradient leaves its parameter (and state) untouched, as PyTorch does for grad None.
    void step(const std::vector<Tensor>& params, const std::vector<Tensor>& grads);

    // The state tensors, "<parameter>.<slot>", in parameter order.
    std::vector<std::pair<std::string, Tensor>> state() const;
    // Restores state() and the step count; tensors are copied to `backend`. Unknown names or wrong
    // shapes are a raven::Error.
    void loadState(const std::map<std::string, Tensor>& state, std::int64_t steps);

protected:
    Optimizer(OptimizerConfig config, std::vector<std::string> names);
    // Returns the new value of parameter i; may create or replace slots_[i] entries.
    virtual Tensor update(std::size_t i, const Tensor& param, const Tensor& grad) = 0;
    // The slot names this optimizer keeps (for loadState's checks).
    virtual std::vector<std::string> slotNames() const = 0;

    OptimizerConfig config_;
    std::vector<std::string> names_;
    std::vector<std::map<std::string, Tensor>> slots_;  // per parameter: slot name -> tensor
    std::vector<Shape> shapes_;                         // known after the first step or loadState
    std::int64_t steps_ = 0;
};

// An optimizer for the named parameters (their order is the order of step()'s vectors).
std::unique_ptr<Optimizer> makeOptimizer(const OptimizerConfig& config, std::vector<std::string> names);

}  // namespace raven::nn
