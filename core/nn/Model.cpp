#include "nn/Model.h"

#include "autograd/Ops.h"
#include "base/Error.h"
#include "nn/Init.h"
#include "tensor/Backend.h"
#include "tensor/Random.h"

namespace raven::nn {

namespace {
std::string someNames(const std::vector<std::string>& names) {
    std::string out;
    for (std::size_t i = 0; i < names.size() && i < 8; ++i) out += (i ? ", " : "") + names[i];
    if (names.size() > 8) out += ", ...";
    return out;
}
}  // namespace

Model::Model(ModelSpec spec, Backend& backend) : architecture_(std::move(spec)), backend_(&backend) {
    for (const ParameterInfo& p : architecture_.parameters()) {
        parameterIndex_[p.name] = parameters_.size();
        parameters_.push_back({p.name, Variable()});
    }
    for (const ParameterInfo& b : architecture_.buffers()) {
        bufferIndex_[b.name] = buffers_.size();
        buffers_.push_back({b.name, Tensor()});
    }
    initialize(architecture_.spec().init.seed);
}

void Model::initialize(std::uint64_t seed) {
    Generator gen(seed);
    const InitScheme scheme = architecture_.spec().init.scheme;
    for (std::size_t i = 0; i < parameters_.size(); ++i)
        parameters_[i].value = Variable(initialValue(architecture_.parameters()[i].decl, scheme, gen, *backend_), true);
    for (std::size_t i = 0; i < buffers_.size(); ++i)
        buffers_[i].value = initialValue(architecture_.buffers()[i].decl, scheme, gen, *backend_);
    dropoutCounter_ = 0;
}

const Variable& Model::parameter(const std::string& name) const {
    const auto it = parameterIndex_.find(name);
    RAVEN_CHECK(it != parameterIndex_.end(), "model " + spec().name + " has no parameter \"" + name + "\"",
                "its parameters: " + someNames(parameterNames()));
    return parameters_[it->second].value;
}

const Variable& Model::parameter(const Layer& layer, const std::string& localName) {
    const auto it = parameterIndex_.find(layer.name() + "." + localName);
    RAVEN_ASSERT(it != parameterIndex_.end(),
                 "layer " + layer.name() + " asked for an undeclared parameter " + localName);
    return parameters_[it->second].value;
}

Tensor& Model::buffer(const Layer& layer, const std::string& localName) {
    const auto it = bufferIndex_.find(layer.name() + "." + localName);
    RAVEN_ASSERT(it != bufferIndex_.end(), "layer " + layer.name() + " asked for an undeclared buffer " + localName);
    return buffers_[it->second].value;
}

std::uint64_t Model::nextDropoutSeed() {
    // Distinct per call, reproducible from the init seed.
    return (spec().init.seed * 0x9E3779B97F4A7C15ull) ^ (++dropoutCounter_ * 0xBF58476D1CE4E5B9ull);
}

std::vector<Tensor> Model::parameterTensors() const {
    std::vector<Tensor> out;
    for (const NamedVariable& p : parameters_) out.push_back(p.value.tensor());
    return out;
}

std::vector<Tensor> Model::gradients() const {
    std::vector<Tensor> out;
    for (const NamedVariable& p : parameters_) out.push_back(p.value.hasGrad() ? p.value.grad() : Tensor());
    return out;
}

std::vector<std::string> Model::parameterNames() const {
    std::vector<std::string> out;
    for (const NamedVariable& p : parameters_) out.push_back(p.name);
    return out;
}

void Model::zeroGrad() {
    for (NamedVariable& p : parameters_) p.value.zeroGrad();
}

Variable Model::forward(const Variable& x) {
    const Shape& expected = architecture_.inputShape();
    bool ok = x.dim() == static_cast<std::int64_t>(expected.size()) + 1;
    for (std::size_t i = 0; ok && i < expected.size(); ++i)
        ok = x.size(static_cast<std::int64_t>(i) + 1) == expected[i];
    RAVEN_CHECK(ok,
                "model " + spec().name + ": input " + shapeToString(x.shape()) + " does not match [batch]+" +
                    shapeToString(expected),
                "the spec's input shape is one sample's shape; the batch comes first");
    Variable h = x;
    for (const auto& layer : architecture_.layers()) h = layer->forward(h, *this);
    return h;
}

Variable Model::loss(const Variable& output, const Tensor& targets) const {
    const LossSpec& loss = spec().loss;
    if (loss.kind == LossKind::MeanSquaredError) {
        RAVEN_CHECK(output.shape() == targets.shape(),
                    "mse loss: output " + shapeToString(output.shape()) + " and targets " +
                        shapeToString(targets.shape()) + " differ",
                    "mse needs targets of the model's output shape");
        return mse(output, Variable(targets));
    }
    RAVEN_CHECK(output.dim() >= 2 && targets.dim() == output.dim() - 1,
                "cross_entropy loss: logits " + shapeToString(output.shape()) + " and targets " +
                    shapeToString(targets.shape()) + " do not fit",
                "logits [B, C] take targets [B]; logits [B, T, C] take targets [B, T]");
    for (std::int64_t i = 0; i < targets.dim(); ++i)
        RAVEN_CHECK(targets.size(i) == output.size(i),
                    "cross_entropy loss: logits " + shapeToString(output.shape()) + " and targets " +
                        shapeToString(targets.shape()) + " differ in axis " + std::to_string(i),
                    "");
    const std::int64_t classes = output.size(-1);
    const std::int64_t rows = output.numel() / classes;
    const Variable logits = output.dim() == 2 ? output : reshape(output, {rows, classes});
    return crossEntropy(logits, targets.dim() == 1 ? targets : targets.reshape({rows}), loss.labelSmoothing);
}

std::map<std::string, Tensor> Model::stateDict() const {
    std::map<std::string, Tensor> out;
    for (const NamedVariable& p : parameters_) out[p.name] = p.value.tensor();
    for (const NamedTensor& b : buffers_) out[b.name] = b.value;
    return out;
}

void Model::loadStateDict(const std::map<std::string, Tensor>& state, bool strict) {
    auto fetch = [&](const std::string& name, const Shape& shape) -> Tensor {
        const auto it = state.find(name);
        if (it == state.end()) {
            RAVEN_CHECK(!strict, "loading model " + spec().name + ": \"" + name + "\" is missing",
                        "was it saved from another model spec?");
            return {};
        }
        RAVEN_CHECK(it->second.shape() == shape,
                    "loading model " + spec().name + ": \"" + name + "\" is " + shapeToString(it->second.shape()) +
                        " but the model's is " + shapeToString(shape),
                    "was it saved from another model spec?");
        // Copied to this model's backend through the host (a checkpoint arrives there anyway).
        const std::vector<float> values = it->second.toVector();
        return backend_->upload(shape, values.data());
    };
    for (const auto& [name, tensor] : state)
        RAVEN_CHECK(parameterIndex_.count(name) || bufferIndex_.count(name),
                    "loading model " + spec().name + ": it has no parameter or buffer \"" + name + "\"",
                    "its parameters: " + someNames(parameterNames()));
    for (NamedVariable& p : parameters_)
        if (Tensor t = fetch(p.name, p.value.shape()); t.defined()) p.value.setTensor(t);
    for (NamedTensor& b : buffers_)
        if (Tensor t = fetch(b.name, b.value.shape()); t.defined()) b.value = t;
}

}  // namespace raven::nn
