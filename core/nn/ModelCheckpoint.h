#pragma once
// A Model (and optionally its Optimizer) to and from a Raven checkpoint (checkpoint/Checkpoint.h):
// parameters and buffers under their PyTorch names, optimizer slots under
// "optimizer.state.<parameter>.<slot>", the spec text, the optimizer settings and the step count.
//
//   nn::saveCheckpoint("mlp.safetensors", model, optimizer.get());
//   auto restored = nn::loadModel("mlp.safetensors");            // spec read from the file
//   auto opt = nn::loadOptimizer(checkpoint, restored->parameterNames(), backend);
#include <memory>
#include <string>

#include "checkpoint/Checkpoint.h"
#include "nn/Model.h"
#include "nn/Optimizer.h"

namespace raven::nn {

Checkpoint toCheckpoint(const Model& model, const Optimizer* optimizer = nullptr);
void saveCheckpoint(const std::string& path, const Model& model, const Optimizer* optimizer = nullptr);

// A model built from the checkpoint's spec with the checkpoint's parameters and buffers.
std::unique_ptr<Model> modelFromCheckpoint(const Checkpoint& checkpoint, Backend& backend = cpuBackend());
std::unique_ptr<Model> loadModel(const std::string& path, Backend& backend = cpuBackend());
// Loads the checkpoint's parameters and buffers into an existing model (names and shapes must match).
void loadParameters(Model& model, const Checkpoint& checkpoint);

// The optimizer described by the checkpoint (settings, state and step) for these parameters; null when
// the checkpoint holds no optimizer.
std::unique_ptr<Optimizer> optimizerFromCheckpoint(const Checkpoint& checkpoint, std::vector<std::string> names,
                                                   Backend& backend = cpuBackend());

}  // namespace raven::nn
