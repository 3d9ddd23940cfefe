#include "nn/LayerRegistry.h"

#include "nn/layers/LayerKinds.h"

namespace raven::nn {

namespace {
struct Kind {
    const char* name;
    std::unique_ptr<Layer> (*make)(const LayerInput&);
};
// The one table of layer kinds.
constexpr Kind kKinds[] = {
    {"linear", makeLinear},
    {"conv2d", makeConv2d},
    {"max_pool2d", makePool2d},
    {"avg_pool2d", makePool2d},
    {"flatten", makeFlatten},
    {"reshape", makeReshape},
    {"relu", makeActivation},
    {"gelu", makeActivation},
    {"tanh", makeActivation},
    {"sigmoid", makeActivation},
    {"softmax", makeActivation},
    {"dropout", makeDropout},
    {"layer_norm", makeLayerNorm},
    {"batch_norm", makeBatchNorm},
    {"embedding", makeEmbedding},
    {"positional_embedding", makePositionalEmbedding},
    {"self_attention", makeSelfAttention},
    {"residual", makeResidual},
};
}  // namespace

bool isLayerKind(const std::string& kind) {
    for (const Kind& k : kKinds)
        if (kind == k.name) return true;
    return false;
}

bool isContainerKind(const std::string& kind) { return kind == "residual"; }

std::string layerKindList() {
    std::string list;
    for (const Kind& k : kKinds) list += (list.empty() ? "" : ", ") + std::string(k.name);
    return list;
}

std::unique_ptr<Layer> buildLayer(const LayerSpec& spec, const Shape& inputShape, const std::string& prefix,
                                  const std::string& origin) {
    for (const Kind& k : kKinds)
        if (spec.kind == k.name)
            return k.make(LayerInput{spec, inputShape, prefix.empty() ? spec.name : prefix + "." + spec.name, origin});
    specError(origin, spec.place, "unknown layer kind \"" + spec.kind + "\"", "known kinds: " + layerKindList());
}

std::int64_t elementCount(const Shape& shape) {
    std::int64_t n = 1;
    for (std::int64_t s : shape) n *= s;
    return n;
}

std::string shapeText(const Shape& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
    return s + "]";
}

void readInitOverride(SpecFields& fields, ParameterDecl& decl) {
    if (!fields.has("init")) {
        fields.string("init", "");
        return;
    }
    const std::string scheme = fields.string("init", "");
    decl.hasScheme = true;
    decl.scheme =
        initSchemeFromString(scheme, "model spec " + fields.origin() + ": " + fields.spec().place + ": field \"init\"");
}

}  // namespace raven::nn
