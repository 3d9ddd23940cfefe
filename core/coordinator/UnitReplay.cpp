#include "coordinator/UnitReplay.h"

#include <span>

#include "base/Error.h"
#include "checkpoint/Checkpoint.h"
#include "nn/ModelCheckpoint.h"
#include "protocol/WireKernelMode.h"
#include "training/ShardGradient.h"

namespace raven::coordinator {

ReplayInput ReplayInput::of(const JobRunner& runner, const ledger::WorkUnit& unit) {
    const QByteArray* weights = runner.weights(unit.modelVersion);
    RAVEN_CHECK(weights,
                "replaying work unit " + std::to_string(unit.id) + ": the job no longer has the weights of version " +
                    std::to_string(unit.modelVersion),
                "");
    return ReplayInput{runner.id(),
                       unit,
                       *weights,
                       runner.specJson(),
                       runner.config().modelSpecSha256.toStdString(),
                       runner.manifest(),
                       runner.config().kernelMode,
                       runner.config().gradientEncoding};
}

UnitReplay::UnitReplay(const data::ShardStore& shards, int threads, std::int64_t shardCacheBytes)
    : cache_(shards, shardCacheBytes), backend_(std::make_unique<CpuBackend>(threads)) {}

UnitReplay::~UnitReplay() {
    models_.clear();  // every tensor goes before the backend that holds it
}

void UnitReplay::forgetJob(ledger::JobId job) {
    std::lock_guard lock(mutex_);
    models_.erase(job);
}

protocol::WorkResult UnitReplay::compute(const ReplayInput& input, bool fresh) {
    std::lock_guard lock(mutex_);
    const ledger::WorkUnit& unit = input.unit;
    const std::string what = "replaying work unit " + std::to_string(unit.id);
    if (fresh) models_.erase(input.job);
    LoadedModel& loaded = models_[input.job];
    if (!loaded.model)
        loaded.model = std::make_unique<nn::Model>(nn::ModelSpec::parse(input.specJson, "the job's spec"), *backend_);
    if (loaded.version != unit.modelVersion) {
        loaded.version = -1;  // a load that fails half-way leaves no claim about the parameters
        const auto* bytes = reinterpret_cast<const std::byte*>(input.weights.constData());
        const SafeTensors tensors = SafeTensors::fromBytes(
            std::span<const std::byte>(bytes, static_cast<std::size_t>(input.weights.size())), "the job's weights");
        nn::loadParameters(*loaded.model, Checkpoint::fromSafeTensors(tensors, "the job's weights"));
        loaded.version = unit.modelVersion;
    }
    // The shards laid end to end in the unit's order, as the worker does (UnitComputer).
    const data::Manifest& manifest = input.manifest;
    std::vector<std::shared_ptr<const data::Samples>> parts;
    std::int64_t total = 0;
    for (const QString& hash : unit.shardHashes) {
        const data::ShardRef* ref = nullptr;
        for (const data::ShardRef& s : manifest.train.shards)
            if (s.hash == hash) ref = &s;
        RAVEN_CHECK(ref, what + ": shard " + hash.left(8).toStdString() + "... is not in the job's training split", "");
        parts.push_back(cache_.samples(manifest, *ref));
        total += parts.back()->count();
    }
    data::Samples samples(manifest.featureShape, manifest.labelShape);
    samples.reserve(total);
    for (const auto& part : parts)
        for (std::int64_t i = 0; i < part->count(); ++i) samples.append(part->features(i), part->labels(i));
    backend_->setKernelMode(input.kernelMode);
    const training::GradientSums sums = training::computeGradientSums(*loaded.model, samples, manifest.normalization);
    protocol::WorkResult result;
    result.workUnitId = std::to_string(unit.id);
    std::vector<std::string> shards;
    for (const QString& hash : unit.shardHashes) shards.push_back(hash.toStdString());
    result.gradient = protocol::roundTripGradient(
        sums.gradient, input.encoding,
        protocol::updateRoundingKey(input.specSha256, static_cast<std::uint64_t>(unit.modelVersion), shards));
    result.sampleCount = static_cast<std::uint64_t>(sums.samples);
    result.loss = sums.lossSum;
    result.correct = static_cast<std::uint64_t>(sums.correct);
    result.kernelMode = protocol::wireKernelMode(input.kernelMode);
    return result;
}

}  // namespace raven::coordinator
