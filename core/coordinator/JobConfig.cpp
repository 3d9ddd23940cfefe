#include "coordinator/JobConfig.h"

#include <QJsonDocument>

#include <cmath>

#include <google/protobuf/util/json_util.h>

#include "base/Error.h"
#include "coordinator/LearningRateSchedule.h"
#include "protocol/WireKernelMode.h"

namespace raven::coordinator {

namespace {

const QString kPriorityKey = QStringLiteral("priority");
const QString kSpecKey = QStringLiteral("model_spec_sha256");
const QString kHyperparametersKey = QStringLiteral("hyperparameters");
const QString kShardsPerUnitKey = QStringLiteral("shards_per_unit");

nn::OptimizerConfig optimizerOf(const wire::Hyperparameters& h) {
    const std::string name = h.optimizer().empty() ? std::string("adam") : h.optimizer();
    nn::OptimizerConfig c;
    if (name == "sgd" || name == "momentum") {
        c = nn::OptimizerConfig::defaults(nn::OptimizerKind::Sgd);
        c.momentum = h.momentum() != 0.0 ? h.momentum() : (name == "momentum" ? 0.9 : 0.0);
    } else if (name == "adam" || name == "adamw") {
        c = nn::OptimizerConfig::defaults(name == "adam" ? nn::OptimizerKind::Adam : nn::OptimizerKind::AdamW);
        if (h.beta1() != 0.0) c.beta1 = h.beta1();
        if (h.beta2() != 0.0) c.beta2 = h.beta2();
        if (h.epsilon() != 0.0) c.eps = h.epsilon();
    } else {
        raven::fail("hyperparameters: unknown optimizer \"" + name + "\"", "use sgd, momentum, adam or adamw");
    }
    if (h.learning_rate() != 0.0) c.lr = h.learning_rate();
    if (h.weight_decay() != 0.0 || name != "adamw") c.weightDecay = h.weight_decay();
    c.validate();
    return c;
}

}  // namespace

JobConfig JobConfig::fromWire(const wire::Hyperparameters& h, int priority, const QString& specSha256) {
    JobConfig c;
    c.hyperparameters = h;
    c.modelSpecSha256 = specSha256;
    c.priority = priority;
    c.optimizer = optimizerOf(h);
    c.localSteps = localStepsOf(h, c.optimizer);
    if (c.localSteps) {
        c.plan.globalBatch = c.localSteps->roundSamples();
    } else {
        RAVEN_CHECK(h.global_batch() > 0, "hyperparameters: global_batch is 0",
                    "give the samples per step, a multiple of the dataset's shard size (e.g. 128)");
        c.plan.globalBatch = static_cast<std::int64_t>(h.global_batch());
    }
    c.plan.epochs = h.epochs() == 0 ? 1 : static_cast<int>(std::min<std::uint32_t>(h.epochs(), 1'000'000));
    RAVEN_CHECK(h.max_steps() <= (1ull << 40), "hyperparameters: max_steps is absurdly large", "use 0 for no limit");
    c.plan.maxSteps = static_cast<std::int64_t>(h.max_steps());
    c.plan.seed = h.seed();
    c.evalEverySteps = h.eval_every_steps();
    c.checkpointEverySteps = h.checkpoint_every_steps() == 0 ? kDefaultCheckpointEverySteps
                                                             : static_cast<std::int64_t>(h.checkpoint_every_steps());
    switch (h.gradient_encoding()) {
        case wire::GRADIENT_ENCODING_UNSPECIFIED:
        case wire::GRADIENT_ENCODING_FP32:
            c.gradientEncoding = wire::GRADIENT_ENCODING_FP32;
            break;
        case wire::GRADIENT_ENCODING_FP16:
        case wire::GRADIENT_ENCODING_BF16:
        case wire::GRADIENT_ENCODING_INT8_BLOCK:
            c.gradientEncoding = h.gradient_encoding();
            break;
        default:
            raven::fail("hyperparameters: unknown gradient_encoding " + std::to_string(h.gradient_encoding()),
                        "use fp32, fp16, bf16 or int8");
    }
    c.gradientZstd = h.gradient_zstd();
    switch (h.weights_down_encoding()) {
        case wire::GRADIENT_ENCODING_UNSPECIFIED:
        case wire::GRADIENT_ENCODING_FP32:
            c.weightsDownEncoding = wire::GRADIENT_ENCODING_FP32;
            break;
        case wire::GRADIENT_ENCODING_INT8_BLOCK:
            c.weightsDownEncoding = h.weights_down_encoding();
            break;
        default:
            raven::fail("hyperparameters: weights_down_encoding " + std::to_string(h.weights_down_encoding()) +
                            " is not fp32 or int8",
                        "send the weights down as fp32 (whole) or int8 (deltas, docs/training.md)");
    }
    const std::optional<KernelMode> mode = protocol::kernelModeOf(h.kernel_mode());
    RAVEN_CHECK(mode, "hyperparameters: unknown kernel_mode " + std::to_string(h.kernel_mode()),
                "use fast or verifiable");
    c.kernelMode = *mode;
    switch (h.aggregation()) {
        case wire::AGGREGATION_MEAN:
            c.aggregation = Aggregation::Mean;
            break;
        case wire::AGGREGATION_CENTRED_CLIP:
            c.aggregation = Aggregation::CentredClip;
            break;
        default:
            raven::fail("hyperparameters: unknown aggregation " + std::to_string(h.aggregation()),
                        "use mean or centred-clip");
    }
    RAVEN_CHECK(std::isfinite(h.clip_multiplier()) && h.clip_multiplier() >= 0.0 &&
                    std::isfinite(h.outlier_multiplier()) && h.outlier_multiplier() >= 0.0,
                "hyperparameters: clip_multiplier and outlier_multiplier must be positive numbers",
                "leave them at 0 for the defaults (2 and 5), or give e.g. 1.5 and 4");
    if (h.clip_multiplier() != 0.0) c.robust.clipMultiplier = h.clip_multiplier();
    if (h.outlier_multiplier() != 0.0) c.robust.outlierMultiplier = h.outlier_multiplier();
    // Lanes' pseudo-gradients are averaged per lane, not per sample, and are not clipped yet.
    RAVEN_CHECK(!(c.localSteps && c.aggregation != Aggregation::Mean),
                "hyperparameters: centred-clip aggregation is for data-parallel jobs, not local-steps (lanes) jobs",
                "submit the local-steps job with --aggregation mean, or drop --lanes/--local-steps");
    // A lane of H inner steps is not replayed yet (UnitReplay computes one gradient).
    RAVEN_CHECK(!(c.localSteps && h.spot_check()),
                "hyperparameters: spot checks are for data-parallel jobs, not local-steps (lanes) jobs",
                "submit the local-steps job without --spot-check, or drop --lanes/--local-steps");
    c.spotCheck = h.spot_check() && c.kernelMode == KernelMode::Fast;
    validateSchedule(h.lr_schedule());
    return c;
}

QJsonObject JobConfig::toJson() const {
    std::string text;
    google::protobuf::util::JsonPrintOptions options;
    options.always_print_primitive_fields = true;
    options.preserve_proto_field_names = true;
    const auto status = google::protobuf::util::MessageToJsonString(hyperparameters, &text, options);
    RAVEN_ASSERT(status.ok(), "hyperparameters always convert to JSON");
    QJsonObject json;
    json[kHyperparametersKey] = QJsonDocument::fromJson(QByteArray::fromStdString(text)).object();
    json[kPriorityKey] = priority;
    json[kSpecKey] = modelSpecSha256;
    if (shardsPerUnit > 0) json[kShardsPerUnitKey] = static_cast<qint64>(shardsPerUnit);
    return json;
}

JobConfig JobConfig::fromJson(const QJsonObject& json) {
    wire::Hyperparameters h;
    const QByteArray text = QJsonDocument(json.value(kHyperparametersKey).toObject()).toJson(QJsonDocument::Compact);
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = true;
    const auto status = google::protobuf::util::JsonStringToMessage(text.toStdString(), &h, options);
    RAVEN_CHECK(status.ok(), "a job's stored hyperparameters do not parse: " + std::string(status.message()),
                "the store was edited by hand or by a newer Raven");
    JobConfig c = fromWire(h, json.value(kPriorityKey).toInt(), json.value(kSpecKey).toString());
    c.shardsPerUnit = std::max<qint64>(0, json.value(kShardsPerUnitKey).toInteger());
    return c;
}

}  // namespace raven::coordinator
