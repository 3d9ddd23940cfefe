#include "nn/ModelCheckpoint.h"

#include "tensor/Backend.h"

namespace raven::nn {

namespace {
Tensor toTensor(const NamedArray& array, Backend& backend) {
    const std::vector<float> values = array.toFloat32();
    return backend.upload(array.shape, values.data());
}
}  // namespace

Checkpoint toCheckpoint(const Model& model, const Optimizer* optimizer) {
    Checkpoint checkpoint;
    checkpoint.spec = model.spec().json;
    for (const auto& [name, tensor] : model.stateDict())
        checkpoint.parameters.putFloat32(name, tensor.shape(), tensor.toVector());
    if (optimizer) {
        checkpoint.optimizer = optimizer->config().toJson();
        checkpoint.step = optimizer->stepCount();
        for (const auto& [name, tensor] : optimizer->state())
            checkpoint.optimizerState.putFloat32(name, tensor.shape(), tensor.toVector());
    }
    return checkpoint;
}

void saveCheckpoint(const std::string& path, const Model& model, const Optimizer* optimizer) {
    toCheckpoint(model, optimizer).write(path);
}

void loadParameters(Model& model, const Checkpoint& checkpoint) {
    std::map<std::string, Tensor> state;
    for (const NamedArray& array : checkpoint.parameters.arrays()) state[array.name] = toTensor(array, model.backend());
    model.loadStateDict(state, true);
}

std::unique_ptr<Model> modelFromCheckpoint(const Checkpoint& checkpoint, Backend& backend) {
    auto model = std::make_unique<Model>(ModelSpec::parse(checkpoint.spec, "(checkpoint spec)"), backend);
    loadParameters(*model, checkpoint);
    return model;
}

std::unique_ptr<Model> loadModel(const std::string& path, Backend& backend) {
    return modelFromCheckpoint(Checkpoint::read(path), backend);
}

std::unique_ptr<Optimizer> optimizerFromCheckpoint(const Checkpoint& checkpoint, std::vector<std::string> names,
                                                   Backend& backend) {
    if (checkpoint.optimizer.empty()) return nullptr;
    auto optimizer = makeOptimizer(OptimizerConfig::fromJson(checkpoint.optimizer), std::move(names));
    std::map<std::string, Tensor> state;
    for (const NamedArray& array : checkpoint.optimizerState.arrays()) state[array.name] = toTensor(array, backend);
    optimizer->loadState(state, checkpoint.step);
    return optimizer;
}

}  // namespace raven::nn
