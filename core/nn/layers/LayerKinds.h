#pragma once
// Internal to raven_nn: the factory of every layer kind (one file each in nn/layers/), listed by
// nn/LayerRegistry.cpp. A factory reads the kind's fields through SpecFields, checks them against the
// per-sample input shape and returns the built layer.
#include <memory>
#include <string>

#include "base/Error.h"
#include "nn/Layer.h"
#include "nn/SpecFields.h"

namespace raven::nn {

struct LayerInput {
    const LayerSpec& spec;
    Shape shape;           // per-sample input shape
    std::string fullName;  // dotted name, the prefix of its parameters
    std::string origin;    // the spec's file, for messages
};

std::unique_ptr<Layer> makeLinear(const LayerInput& in);
std::unique_ptr<Layer> makeActivation(const LayerInput& in);  // relu, gelu, tanh, sigmoid, softmax
std::unique_ptr<Layer> makeFlatten(const LayerInput& in);
std::unique_ptr<Layer> makeReshape(const LayerInput& in);
std::unique_ptr<Layer> makeDropout(const LayerInput& in);
std::unique_ptr<Layer> makeConv2d(const LayerInput& in);
std::unique_ptr<Layer> makePool2d(const LayerInput& in);  // max_pool2d, avg_pool2d
std::unique_ptr<Layer> makeLayerNorm(const LayerInput& in);
std::unique_ptr<Layer> makeBatchNorm(const LayerInput& in);
std::unique_ptr<Layer> makeEmbedding(const LayerInput& in);
std::unique_ptr<Layer> makePositionalEmbedding(const LayerInput& in);
std::unique_ptr<Layer> makeSelfAttention(const LayerInput& in);
std::unique_ptr<Layer> makeResidual(const LayerInput& in);

// Helpers shared by the kinds.
//
// Sizes come from a requester's spec, so arithmetic on them is checked: elementCount, sizeMul and
// sizeAdd throw SizeOverflow when the exact result does not fit in int64_t, and buildLayer turns it
// into a spec error naming the layer. (Outside buildLayer it is still a raven::Error.)
struct SizeOverflow : Error {
    using Error::Error;
};
std::int64_t elementCount(const Shape& shape);
std::int64_t sizeMul(std::int64_t a, std::int64_t b);
std::int64_t sizeAdd(std::int64_t a, std::int64_t b);
std::string shapeText(const Shape& shape);
// Reads the optional per-layer "init" field into decl (hasScheme/scheme).
void readInitOverride(SpecFields& fields, ParameterDecl& decl);

}  // namespace raven::nn
