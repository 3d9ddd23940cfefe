#include "coordinator/JobBounds.h"

namespace raven::coordinator {

namespace {

double elements(const nn::Shape& shape) {
    double n = 1.0;
    for (const auto d : shape) n *= static_cast<double>(d);
    return n;
}

QString megabytes(double bytes) { return QString::number(bytes / (1024.0 * 1024.0), 'f', 1) + " MiB"; }

}  // namespace

ModelCost ModelCost::of(const nn::Architecture& arch) {
    ModelCost cost;
    for (const nn::ParameterInfo& p : arch.parameters()) cost.parameters += elements(p.decl.shape);
    double activations = elements(arch.inputShape());
    for (const nn::Layer* layer : arch.allLayers()) activations += elements(layer->outputShape());
    cost.activationBytesPerSample = 4.0 * activations;
    cost.trainingFlopsPerSample = arch.trainingFlopsPerSample();
    return cost;
}

std::optional<QString> JobBounds::checkSpec(const nn::Architecture& arch) const {
    return checkCost(ModelCost::of(arch));
}

std::optional<QString> JobBounds::checkCost(const ModelCost& cost) const {
    if (cost.parameters > static_cast<double>(limits_.maxParameters))
        return QStringLiteral("the model has %1 parameters, above this coordinator's limit of %2")
            .arg(cost.parameters, 0, 'g', 4)
            .arg(limits_.maxParameters);
    if (cost.activationBytesPerSample > static_cast<double>(limits_.maxActivationBytesPerSample))
        return QStringLiteral("one sample needs %1 of activations, above this coordinator's limit of %2")
            .arg(megabytes(cost.activationBytesPerSample),
                 megabytes(static_cast<double>(limits_.maxActivationBytesPerSample)));
    return std::nullopt;
}

std::optional<QString> JobBounds::checkUnit(const nn::Architecture& arch, double samplesPerUnit) const {
    const ModelCost cost = ModelCost::of(arch);
    if (auto why = checkCost(cost)) return why;
    const double flops = cost.trainingFlopsPerSample * samplesPerUnit;
    if (flops > limits_.maxUnitFlops)
        return QStringLiteral("one work unit (%1 samples) takes %2 FLOPs, above this coordinator's limit of %3")
            .arg(samplesPerUnit, 0, 'g', 6)
            .arg(flops, 0, 'g', 4)
            .arg(limits_.maxUnitFlops, 0, 'g', 4);
    const double memory = cost.activationBytesPerSample * samplesPerUnit;
    if (memory > static_cast<double>(limits_.maxUnitActivationBytes))
        return QStringLiteral(
                   "one work unit (%1 samples) needs %2 of activations, above this coordinator's limit of %3")
            .arg(samplesPerUnit, 0, 'g', 6)
            .arg(megabytes(memory), megabytes(static_cast<double>(limits_.maxUnitActivationBytes)));
    return std::nullopt;
}

QString JobBounds::hint() {
    return QStringLiteral(
        "make the model smaller (fewer or narrower layers) or the shards smaller; the coordinator's operator sets "
        "these limits (docs/security.md)");
}

}  // namespace raven::coordinator
