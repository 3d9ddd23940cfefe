#pragma once
// A Raven checkpoint: everything needed to resume training, in one safetensors file that PyTorch can
// also read.
//
//   tensors   the model parameters under their PyTorch names ("fc1.weight", "conv1.bias", ...), so a
//             torch module with the same layers takes them with load_state_dict; and the optimizer
//             state under "optimizer.state.<parameter>.<slot>", e.g.
//             "optimizer.state.fc1.weight.exp_avg" (the slot names are PyTorch's: exp_avg,
//             exp_avg_sq, momentum_buffer).
//   metadata  "format":    "raven-checkpoint"
//             "version":   "1" (kFormatVersion; a file from a newer Raven is refused with a request
//                          to upgrade, an older one is read)
//             "spec":      the model spec, JSON text
//             "optimizer": the optimizer's hyperparameters, JSON text (absent without optimizer state)
//             "step":      the number of optimizer steps taken, decimal
//             other keys are kept as `extraMetadata`.
//
// Usage:
//   raven::Checkpoint checkpoint;
//   checkpoint.spec = specJson;
//   checkpoint.optimizer = R"({"type": "adam", "lr": 0.001})";
//   checkpoint.step = 1200;
//   checkpoint.parameters.putFloat32("fc1.weight", {256, 784}, weights);
//   checkpoint.optimizerState.putFloat32("fc1.weight.exp_avg", {256, 784}, firstMoment);
//   checkpoint.write("mlp.safetensors");
//   auto resumed = raven::Checkpoint::read("mlp.safetensors");
#include <cstdint>
#include <string>
#include <string_view>

#include "checkpoint/SafeTensors.h"

namespace raven {

struct Checkpoint {
    static constexpr int kFormatVersion = 1;
    static constexpr std::string_view kFormatName = "raven-checkpoint";
    static constexpr std::string_view kOptimizerStatePrefix = "optimizer.state.";

    std::string spec;                     // the model spec (JSON text); required
    std::string optimizer;                // optimizer hyperparameters (JSON text); empty when there is no optimizer
    std::int64_t step = 0;                // optimizer steps taken
    SafeTensors parameters;               // by PyTorch name; their own `metadata` is not stored
    SafeTensors optimizerState;           // by "<parameter>.<slot>", without the prefix; `metadata` not stored
    SafeTensors::Metadata extraMetadata;  // other "__metadata__" keys, kept as they were

    // "<parameter>.<slot>": the name of a slot in `optimizerState`.
    static std::string optimizerStateName(std::string_view parameter, std::string_view slot);

    // Reads a checkpoint. A plain safetensors file (e.g. PyTorch weights), a file from a newer Raven,
    // or missing/invalid metadata is a raven::Error naming the file.
    static Checkpoint read(const std::string& path);
    // Writes it atomically. An empty spec, a parameter name that starts with the optimizer prefix, or
    // spec/optimizer text that is not a JSON object is a raven::Error.
    void write(const std::string& path) const;

    // The file's contents as one collection, and back (`source` names it in error messages).
    SafeTensors toSafeTensors() const;
    static Checkpoint fromSafeTensors(const SafeTensors& tensors, const std::string& source);
};

}  // namespace raven
