#pragma once
// OnnxExport: a trained model as an ONNX file (opset 17) that takes the dataset's raw inputs: the
// normalization the model was trained with is the graph's first nodes, so the file predicts right
// wherever it is loaded (ONNX Runtime, OpenCV's dnn, TensorRT...), on pixels 0..255 for images,
// raw numbers for CSV and NumPy, token ids (as floats) for a text corpus.
//
// Every layer kind a spec can hold has its ONNX form: linear (MatMul + Add), conv2d (Conv),
// max/avg_pool2d (MaxPool, AveragePool), flatten/reshape, relu, gelu (its erf or tanh formula),
// tanh, sigmoid, softmax, dropout (Identity: inference), layer_norm (LayerNormalization),
// batch_norm (BatchNormalization with the running statistics), embedding (Cast + Gather),
// positional_embedding (Slice + Add), self_attention (the projections, heads as Reshape/Transpose,
// the scaled scores with the causal mask, Softmax, MatMul) and residual blocks (Add).
//
// Input "input" [batch, ...input shape], output "output" [batch, ...output shape] (the logits);
// metadata_props carry the same raven.* entries as the safetensors export (ModelExport.h).
// tests/console/onnx_reference.py checks a file with onnx.checker and shape inference and evaluates
// it with its own NumPy implementation of each operator, against Raven's outputs.
#include <QString>

#include "data/Manifest.h"

namespace raven::console {

// raven::Error when the checkpoint cannot be read, a layer has no ONNX form, or the file cannot be
// written (the message names it).
void exportOnnx(const QString& checkpointPath, const data::Manifest& dataset, const QString& outPath);

}  // namespace raven::console
