#pragma once
// ModelExport: a trained model packed to be used elsewhere: the checkpoint's parameters (PyTorch
// names) and spec, without the optimizer state, plus what a checkpoint alone does not carry and
// without which the model predicts wrongly on raw inputs: the dataset's normalization, its class
// names and the input shape, as safetensors metadata:
//   "raven.dataset"        the dataset's name
//   "raven.input_shape"    JSON array, one sample without the batch dimension, e.g. [1,28,28]
//   "raven.classes"        JSON array of class names, by label index
//   "raven.normalization"  JSON {"kind": "per-channel", "mean": [...], "std": [...]}: the model
//                          expects (x - mean) / std per channel of the raw values (bytes 0..255 for images)
// The file is still a Raven checkpoint (raven eval and nn::loadModel read it) and a plain
// safetensors file for PyTorch.
#include <QString>
#include <map>
#include <string>

#include "data/Manifest.h"

namespace raven::console {

// The raven.* entries above for `dataset` (the ONNX export carries them too).
std::map<std::string, std::string> preprocessingMetadata(const data::Manifest& dataset);

// raven::Error when the checkpoint cannot be read or the file cannot be written.
void exportModel(const QString& checkpointPath, const data::Manifest& dataset, const QString& outPath);

}  // namespace raven::console
