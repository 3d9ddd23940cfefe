#include "nn/Architecture.h"

#include <cstdio>
#include <functional>

#include "nn/LayerRegistry.h"
#include "nn/layers/LayerKinds.h"

namespace raven::nn {

Architecture::Architecture(ModelSpec spec) : spec_(std::move(spec)) {
    const char* smaller = "use smaller sizes: no model can hold that many values";
    try {
        elementCount(spec_.inputShape);
    } catch (const SizeOverflow& e) {
        specError(spec_.origin, "input", "field \"shape\": " + e.message(), smaller);
    }
    Shape shape = spec_.inputShape;
    for (const LayerSpec& layer : spec_.layers) {
        layers_.push_back(buildLayer(layer, shape, "", spec_.origin));
        shape = layers_.back()->outputShape();
    }
    outputShape_ = shape;
    for (const Layer* layer : allLayers()) {
        for (const ParameterDecl& d : layer->parameters())
            parameters_.push_back({layer->name() + "." + d.name, layer, d});
        for (const ParameterDecl& d : layer->buffers()) buffers_.push_back({layer->name() + "." + d.name, layer, d});
    }
    // Each layer's own count fits (buildLayer checks it); the model's total must fit too.
    try {
        parameterCount_ = 0;
        for (const ParameterInfo& p : parameters_)
            parameterCount_ = sizeAdd(parameterCount_, elementCount(p.decl.shape));
    } catch (const SizeOverflow& e) {
        specError(spec_.origin, "", "the parameter count overflows 64 bits: " + e.message(), smaller);
    }
}

std::vector<const Layer*> Architecture::allLayers() const {
    std::vector<const Layer*> out;
    std::function<void(const Layer*)> visit = [&](const Layer* l) {
        out.push_back(l);
        for (const Layer* c : l->children()) visit(c);
    };
    for (const auto& l : layers_) visit(l.get());
    return out;
}

std::int64_t Architecture::parameterCount() const { return parameterCount_; }

double Architecture::forwardFlopsPerSample() const {
    double flops = 0.0;
    for (const Layer* l : allLayers()) flops += l->forwardFlops();
    return flops;
}

std::string Architecture::summary() const {
    std::string out;
    char line[256];
    std::snprintf(line, sizeof line, "%-28s %-20s %-16s %12s %14s\n", "layer", "kind", "output", "parameters",
                  "forward FLOPs");
    out += line;
    for (const Layer* l : allLayers()) {
        std::int64_t params = 0;
        for (const ParameterDecl& d : l->parameters()) params += elementCount(d.shape);
        std::snprintf(line, sizeof line, "%-28s %-20s %-16s %12lld %14.0f\n", l->name().c_str(), l->kind().c_str(),
                      shapeText(l->outputShape()).c_str(), static_cast<long long>(params), l->forwardFlops());
        out += line;
    }
    std::snprintf(line, sizeof line, "input %s, output %s, %lld parameters, %.4g forward FLOPs per sample\n",
                  shapeText(inputShape()).c_str(), shapeText(outputShape_).c_str(),
                  static_cast<long long>(parameterCount()), forwardFlopsPerSample());
    return out + line;
}

}  // namespace raven::nn
