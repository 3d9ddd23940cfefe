#include "worker/UnitComputer.h"

#include <QElapsedTimer>

#include <algorithm>
#include <cmath>
#include <span>
#include <unordered_map>

#include "base/Error.h"
#include "checkpoint/Checkpoint.h"
#include "data/FileBytes.h"
#include "nn/Model.h"
#include "nn/ModelCheckpoint.h"
#include "protocol/Chunking.h"
#include "protocol/GradientCodec.h"
#include "protocol/WireKernelMode.h"
#include "training/ShardGradient.h"
#include "worker/LocalStepsLane.h"
#include "worker/PacedGradient.h"

namespace raven::worker {
namespace {

using data::str;

}  // namespace

struct UnitComputer::CachedModel {
    std::string specSha256;
    std::unique_ptr<nn::Model> model;
    std::string weightsKey;                    // "job/version" of the parameters now in `model`; empty: none
    std::shared_ptr<const Checkpoint> parsed;  // those weights, parsed, for models whose buffers move
    bool moved = false;                        // a local-steps lane moved the parameters since
};

void checkShard(const data::Manifest& m, const data::ShardRef& ref, const DecodedShard& shard) {
    const std::string origin = "shard " + str(ref.hash.left(8)) + "... of dataset '" + m.name + "'";
    RAVEN_CHECK(shard.hash == ref.hash, origin + ": the shard decoded for it is " + str(shard.hash.left(8)) + "...",
                "the worker mixed up its shards; report this as a bug");
    RAVEN_CHECK(shard.samples.featureShape() == m.featureShape && shard.samples.labelShape() == m.labelShape,
                origin + " holds samples of shape " + data::shapeString(shard.samples.featureShape()) + " -> " +
                    data::shapeString(shard.samples.labelShape()) + " but the dataset has " +
                    data::shapeString(m.featureShape) + " -> " + data::shapeString(m.labelShape),
                "the coordinator sent a shard of another dataset");
    RAVEN_CHECK(shard.elementType == m.elementType && shard.samples.count() == ref.samples,
                origin + " holds " + std::to_string(shard.samples.count()) + " samples but the manifest lists " +
                    std::to_string(ref.samples),
                "the manifest and the shard disagree; the coordinator's dataset is damaged");
    for (auto y : shard.samples.allLabels())
        RAVEN_CHECK(y >= 0 && y < static_cast<std::int32_t>(m.classes.size()),
                    origin + " holds label " + std::to_string(y) + " but the dataset has " +
                        std::to_string(m.classes.size()) + " classes",
                    "the coordinator sent a shard of another dataset");
}

UnitComputer::UnitComputer(QString deviceSelector, int threads)
    : selector_(std::move(deviceSelector)), threads_(threads) {}

UnitComputer::~UnitComputer() {
    models_.clear();  // every tensor goes before the backend that holds it
    device_.reset();
}

DeviceReport UnitComputer::open() {
    DeviceReport report;
    try {
        if (!device_) device_ = std::make_unique<WorkerDevice>(selector_, threads_);
        report.device = device_->describe();
        report.summary = device_->summary();
        report.note = device_->note();
    } catch (const std::exception& e) {
        report.error = QString::fromUtf8(e.what());
    }
    return report;
}

UnitComputer::CachedModel& UnitComputer::modelFor(const wire::WorkUnit& unit) {
    for (auto it = models_.begin(); it != models_.end(); ++it) {
        if ((*it)->specSha256 != unit.model_spec_sha256()) continue;
        models_.splice(models_.begin(), models_, it);  // most recently used first
        return *models_.front();
    }
    auto cached = std::make_unique<CachedModel>();
    cached->specSha256 = unit.model_spec_sha256();
    cached->model = std::make_unique<nn::Model>(
        nn::ModelSpec::parse(unit.model_spec_json(),
                             "spec " + unit.model_spec_sha256().substr(0, 8) + "... of job " + unit.job_id()),
        device_->backend());
    models_.push_front(std::move(cached));
    while (models_.size() > kModelsKept) models_.pop_back();
    return *models_.front();
}

void UnitComputer::loadWeights(CachedModel& cached, const UnitInputs& inputs) {
    const wire::WorkUnit& unit = inputs.unit;
    const std::string key = unit.job_id() + "/" + std::to_string(unit.model_version());
    // Training mode moves BatchNorm's running statistics: a model with buffers gets its version's
    // weights again for every unit, so that each unit starts from exactly what the coordinator sent.
    if (cached.weightsKey == key && cached.model->buffers().empty() && !cached.moved) return;
    if (!cached.parsed || cached.weightsKey != key) {
        RAVEN_CHECK(inputs.weights, "work unit " + unit.id() + " came without weights", "");
        const std::string source =
            "weights of job " + unit.job_id() + " version " + std::to_string(unit.model_version());
        const auto* bytes = reinterpret_cast<const std::byte*>(inputs.weights->constData());
        cached.parsed = std::make_shared<Checkpoint>(Checkpoint::fromSafeTensors(
            SafeTensors::fromBytes(std::span<const std::byte>(bytes, static_cast<std::size_t>(inputs.weights->size())),
                                   source),
            source));
    }
    cached.weightsKey.clear();  // a load that fails half-way leaves no claim about the parameters
    nn::loadParameters(*cached.model, *cached.parsed);
    cached.weightsKey = key;
    cached.moved = false;
}

ComputedUnit UnitComputer::compute(const UnitInputs& inputs) { return encodeResult(computeGradient(inputs)); }

ComputedUnit encodeResult(ComputedGradient gradient) {
    ComputedUnit out = std::move(gradient.unit);
    if (!out.error.isEmpty()) return out;
    QElapsedTimer clock;
    clock.start();
    try {
        out.parts = protocol::makeSubmitResults(gradient.result, gradient.encoding, gradient.zstd, gradient.roundingKey,
                                                gradient.hashed);
        for (const wire::SubmitResult& part : out.parts)
            out.wireBytes += static_cast<std::int64_t>(part.ByteSizeLong());
    } catch (const std::exception& e) {
        out.error = QString::fromUtf8(e.what());
        out.parts.clear();
    }
    out.seconds += static_cast<double>(clock.nsecsElapsed()) / 1e9;
    return out;
}

ComputedGradient UnitComputer::computeGradient(const UnitInputs& inputs) {
    const wire::WorkUnit& unit = inputs.unit;
    ComputedGradient computed;
    ComputedUnit& out = computed.unit;
    out.workUnitId = QString::fromStdString(unit.id());
    QElapsedTimer clock;
    clock.start();
    double rested = 0;  // the duty cycle's rests inside the unit: wall time, not computation
    try {
        if (!device_) {
            const DeviceReport report = open();
            RAVEN_CHECK(report.error.isEmpty(), str(report.error), "");
        }
        RAVEN_CHECK(inputs.manifest, "work unit " + unit.id() + " came without its dataset's manifest", "");
        const data::Manifest& manifest = *inputs.manifest;
        RAVEN_CHECK(
            str(protocol::sha256Hex(QByteArray::fromStdString(unit.model_spec_json()))) == unit.model_spec_sha256(),
            "work unit " + unit.id() + ": the model spec does not hash to its name " + unit.model_spec_sha256(),
            "the coordinator sent a damaged unit");
        RAVEN_CHECK(unit.local_steps() <= 1 || unit.has_local_steps_unit(),
                    "work unit " + unit.id() + " asks for " + std::to_string(unit.local_steps()) +
                        " local steps; this worker computes one gradient per unit",
                    "update raven-worker");
        const std::optional<KernelMode> mode = protocol::kernelModeOf(unit.kernel_mode());
        RAVEN_CHECK(mode,
                    "work unit " + unit.id() + " asks for kernel mode " + std::to_string(unit.kernel_mode()) +
                        ", which this worker does not know",
                    "update raven-worker");
        RAVEN_CHECK(
            inputs.shards.size() == static_cast<std::size_t>(unit.shard_hashes_size()) && !inputs.shards.empty(),
            "work unit " + unit.id() + " has " + std::to_string(unit.shard_hashes_size()) + " shards but " +
                std::to_string(inputs.shards.size()) + " arrived",
            "");

        std::unordered_map<std::string, const data::ShardRef*> refs;
        for (const data::ShardRef& ref : manifest.train.shards) refs.emplace(str(ref.hash), &ref);
        std::int64_t count = 0;
        for (int i = 0; i < unit.shard_hashes_size(); ++i) {
            auto ref = refs.find(unit.shard_hashes(i));
            RAVEN_CHECK(ref != refs.end(),
                        "work unit " + unit.id() + ": shard " + unit.shard_hashes(i).substr(0, 8) +
                            "... is not in the training split of dataset '" + manifest.name + "'",
                        "the coordinator sent an inconsistent unit");
            const auto& shard = inputs.shards[static_cast<std::size_t>(i)];
            RAVEN_CHECK(shard, "work unit " + unit.id() + " came without its shard " + std::to_string(i), "");
            checkShard(manifest, *ref->second, *shard);
            count += shard->samples.count();
        }
        // The shards are decoded already (DecodedShards.h); they are laid end to end in the unit's order.
        std::vector<float> features;
        std::vector<std::int32_t> labels;
        features.reserve(static_cast<std::size_t>(count * inputs.shards.front()->samples.featureSize()));
        labels.reserve(static_cast<std::size_t>(count * inputs.shards.front()->samples.labelSize()));
        for (const auto& shard : inputs.shards) {
            features.insert(features.end(), shard->samples.allFeatures().begin(), shard->samples.allFeatures().end());
            labels.insert(labels.end(), shard->samples.allLabels().begin(), shard->samples.allLabels().end());
        }
        data::Samples samples(manifest.featureShape, manifest.labelShape);
        samples.assign(std::move(features), std::move(labels));

        CachedModel& cached = modelFor(unit);
        loadWeights(cached, inputs);
        // A lane's inner steps move the parameters: the next unit loads its weights again.
        const bool lane = unit.has_local_steps_unit();
        if (lane) cached.moved = true;
        // Before the unit's first kernel: the mode is the unit's, whatever the previous unit's was.
        device_->backend().setKernelMode(*mode);
        // A verifiable unit is computed in one piece: the duty cycle's chunks would add its sum up in
        // another order than a verifier's replay (PacedGradient.h).
        const bool paced = duty_ && *mode == KernelMode::Fast;
        training::GradientSums sums =
            lane    ? LocalStepsLane::compute(*cached.model, unit, inputs.shards, manifest)
            : paced ? computeGradientSumsPaced(*cached.model, samples, manifest.normalization, *duty_, &rested)
                    : training::computeGradientSums(*cached.model, samples, manifest.normalization);

        out.samples = sums.samples;
        out.lossSum = sums.lossSum;
        out.correct = sums.correct;
        out.flops = static_cast<double>(sums.samples) * cached.model->architecture().trainingFlopsPerSample();
        protocol::WorkResult& result = computed.result;
        result.workUnitId = unit.id();
        result.gradient = std::move(sums.gradient);
        result.sampleCount = static_cast<std::uint64_t>(sums.samples);
        result.loss = sums.lossSum;
        result.correct = static_cast<std::uint64_t>(sums.correct);
        // Rounded, not truncated: a whole-millisecond field would otherwise understate every unit by
        // half a millisecond on average (6% of an MLP unit), and utilization with it.
        result.computeMs = static_cast<std::uint64_t>(
            std::llround(std::max(0.0, static_cast<double>(clock.nsecsElapsed()) / 1e6 - rested * 1000.0)));
        result.kernelMode = protocol::wireKernelMode(*mode);
        computed.encoding = unit.gradient_encoding() == wire::GRADIENT_ENCODING_UNSPECIFIED
                                ? wire::GRADIENT_ENCODING_FP32
                                : unit.gradient_encoding();
        computed.zstd = unit.gradient_zstd();
        computed.roundingKey = protocol::unitRoundingKey(unit);
    } catch (const std::exception& e) {
        out.error = QString::fromUtf8(e.what());
        computed.result.gradient.clear();
    }
    out.seconds = std::max(0.0, static_cast<double>(clock.nsecsElapsed()) / 1e9 - rested);
    return computed;
}

}  // namespace raven::worker
