#pragma once
// The layer kinds a model spec may use, and the factory that builds a layer from its spec and input
// shape. Adding a kind = one file in nn/layers/ plus one row in LayerRegistry.cpp.
//
// Kinds: linear, conv2d, max_pool2d, avg_pool2d, flatten, reshape, relu, gelu, tanh, sigmoid, softmax,
// dropout, layer_norm, batch_norm, embedding, positional_embedding, self_attention, residual.
#include <memory>
#include <string>

#include "nn/Layer.h"

namespace raven::nn {

bool isLayerKind(const std::string& kind);
// Kinds that hold an inner "layers" sequence (residual).
bool isContainerKind(const std::string& kind);
// "linear, conv2d, ..." for messages.
std::string layerKindList();

// Builds the layer `spec` for per-sample input `inputShape`; `prefix` is the full name of the block
// that holds it ("" at the top). Throws a spec error naming the layer and field when the fields are
// wrong or do not fit the input shape.
std::unique_ptr<Layer> buildLayer(const LayerSpec& spec, const Shape& inputShape, const std::string& prefix,
                                  const std::string& origin);

}  // namespace raven::nn
