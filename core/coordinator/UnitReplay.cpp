#include "coordinator/UnitReplay.h"

#include <span>

#include "base/Error.h"
#include "checkpoint/Checkpoint.h"
#include "data/Sharding.h"
#include "nn/ModelCheckpoint.h"
#include "protocol/WireKernelMode.h"
#include "training/ShardGradient.h"

namespace raven::coordinator {

UnitReplay::UnitReplay(const data::ShardStore& shards, int threads)
    : shards_(shards), backend_(std::make_unique<CpuBackend>(threads)) {}

UnitReplay::~UnitReplay() {
    models_.clear();  // every tensor goes before the backend that holds it
}

protocol::WorkResult UnitReplay::compute(const JobRunner& runner, const ledger::WorkUnit& unit) {
    const std::string what = "replaying work unit " + std::to_string(unit.id);
    const QByteArray* weights = runner.weights(unit.modelVersion);
    RAVEN_CHECK(weights, what + ": the job no longer has the weights of version " + std::to_string(unit.modelVersion),
                "");
    LoadedModel& loaded = models_[runner.id()];
    if (!loaded.model)
        loaded.model = std::make_unique<nn::Model>(nn::ModelSpec::parse(runner.specJson(), "the job's spec"), *backend_);
    if (loaded.version != unit.modelVersion) {
        loaded.version = -1;  // a load that fails half-way leaves no claim about the parameters
        const auto* bytes = reinterpret_cast<const std::byte*>(weights->constData());
        const SafeTensors tensors = SafeTensors::fromBytes(
            std::span<const std::byte>(bytes, static_cast<std::size_t>(weights->size())), "the job's weights");
        nn::loadParameters(*loaded.model, Checkpoint::fromSafeTensors(tensors, "the job's weights"));
        loaded.version = unit.modelVersion;
    }
    // The shards laid end to end in the unit's order, as the worker does (UnitComputer).
    const data::Manifest& manifest = runner.manifest();
    data::Samples samples(manifest.featureShape, manifest.labelShape);
    for (const QString& hash : unit.shardHashes) {
        const data::ShardRef* ref = nullptr;
        for (const data::ShardRef& s : manifest.train.shards)
            if (s.hash == hash) ref = &s;
        RAVEN_CHECK(ref, what + ": shard " + hash.left(8).toStdString() + "... is not in the job's training split", "");
        const data::Samples part = data::loadShardSamples(manifest, *ref, shards_);
        for (std::int64_t i = 0; i < part.count(); ++i) samples.append(part.features(i), part.labels(i));
    }
    backend_->setKernelMode(runner.config().kernelMode);
    const training::GradientSums sums = training::computeGradientSums(*loaded.model, samples, manifest.normalization);
    protocol::WorkResult result;
    result.workUnitId = std::to_string(unit.id);
    result.gradient = sums.gradient;
    result.sampleCount = static_cast<std::uint64_t>(sums.samples);
    result.loss = sums.lossSum;
    result.correct = static_cast<std::uint64_t>(sums.correct);
    result.kernelMode = protocol::wireKernelMode(runner.config().kernelMode);
    return result;
}

}  // namespace raven::coordinator
