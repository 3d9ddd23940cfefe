#include "nn/LayerRegistry.h"

#include "base/Checked.h"
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
    for (const Kind& k : kKinds) {
        if (spec.kind != k.name) continue;
        try {
            std::unique_ptr<Layer> layer =
                k.make(LayerInput{spec, inputShape, prefix.empty() ? spec.name : prefix + "." + spec.name, origin});
            // Every shape the layer declares must have a count that fits, and so must their sum, so that
            // parameter counts, FLOPs and allocations later never wrap.
            elementCount(layer->outputShape());
            [[maybe_unused]] std::int64_t total = 0;
            for (const auto* decls : {&layer->parameters(), &layer->buffers()})
                for (const ParameterDecl& d : *decls) total = sizeAdd(total, elementCount(d.shape));
            return layer;
        } catch (const SizeOverflow& e) {
            specError(origin, spec.place, e.message(),
                      "use smaller sizes: no model can hold that many values (check the input shape and the "
                      "layer's fields)");
        }
    }
    specError(origin, spec.place, "unknown layer kind \"" + spec.kind + "\"", "known kinds: " + layerKindList());
}

std::int64_t elementCount(const Shape& shape) {
    const auto n = checkedProduct(shape);
    if (!n) throw SizeOverflow("the shape " + shapeText(shape) + " has more elements than fit in 64 bits");
    return *n;
}

std::int64_t sizeMul(std::int64_t a, std::int64_t b) {
    const auto r = mulOrNothing(a, b);
    if (!r) throw SizeOverflow(std::to_string(a) + " * " + std::to_string(b) + " does not fit in 64 bits");
    return *r;
}

std::int64_t sizeAdd(std::int64_t a, std::int64_t b) {
    const auto r = addOrNothing(a, b);
    if (!r) throw SizeOverflow(std::to_string(a) + " + " + std::to_string(b) + " does not fit in 64 bits");
    return *r;
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
