#include "JobSettings.h"

#include <QObject>

#include "CreditsText.h"
#include "base/Error.h"
#include "data/Manifest.h"
#include "requester/Credits.h"
#include "requester/Hyperparameters.h"

namespace raven::console {

namespace {
nn::OptimizerConfig optimizerConfig(const JobSettings& s) {
    const nn::OptimizerKind kind = s.optimizer == OptimizerChoice::Adam    ? nn::OptimizerKind::Adam
                                   : s.optimizer == OptimizerChoice::AdamW ? nn::OptimizerKind::AdamW
                                                                           : nn::OptimizerKind::Sgd;
    nn::OptimizerConfig c = nn::OptimizerConfig::defaults(kind);
    c.lr = s.learningRate;
    if (s.optimizer == OptimizerChoice::Momentum) c.momentum = 0.9;
    c.validate();
    return c;
}
}  // namespace

QStringList scheduleChoiceNames() {
    return {QObject::tr("constant"), QObject::tr("step decay"), QObject::tr("cosine"),
            QObject::tr("linear warm-up, then cosine")};
}

QStringList resultCheckingNames() {
    return {QObject::tr("sanity checks only (fastest)"), QObject::tr("clip results far from the others"),
            QObject::tr("clip, and recompute a share of the work (fast kernels)"),
            QObject::tr("recompute a share of the work (verifiable kernels)")};
}

QStringList trainingModeNames() {
    return {QObject::tr("every step together (data-parallel)"), QObject::tr("local steps (for slow links)")};
}

QStringList updateSizeNames() {
    return {QObject::tr("full (32-bit, exact)"), QObject::tr("half (16-bit bfloat)"),
            QObject::tr("a quarter (8-bit, rounded at random)")};
}

QStringList weightsDownNames() {
    return {QObject::tr("whole (32-bit, exact)"), QObject::tr("a quarter (8-bit deltas, rounded at random)")};
}

std::int64_t samplesPerStep(const JobSettings& s) {
    if (s.mode == TrainingMode::EveryStep) return s.batch;
    return std::int64_t(s.lanes) * s.innerSteps * s.innerBatch;
}

namespace {
QString localStepsText(std::int64_t lanes, std::int64_t innerSteps, std::int64_t innerBatch, std::int64_t staleness) {
    return QObject::tr("local steps: %1 lanes × %2 inner steps of %3 samples, %4")
        .arg(lanes)
        .arg(innerSteps)
        .arg(innerBatch)
        .arg(staleness > 0 ? QObject::tr("next round at once (staleness 1)")
                           : QObject::tr("each round waits for the last (staleness 0)"));
}
}  // namespace

QString describeTrainingMode(const JobSettings& s) {
    if (s.mode == TrainingMode::EveryStep) return QObject::tr("every step together");
    return localStepsText(s.lanes, s.innerSteps, s.innerBatch, s.staleness);
}

namespace {
QString resultCheckingOf(const wire::Hyperparameters& h) {
    const QStringList names = resultCheckingNames();
    if (h.kernel_mode() == wire::KERNEL_MODE_VERIFIABLE) return names[int(ResultChecking::Recompute)];
    if (h.spot_check()) return names[int(ResultChecking::SpotCheck)];
    if (h.aggregation() == wire::AGGREGATION_CENTRED_CLIP) return names[int(ResultChecking::ClipOutliers)];
    return names[int(ResultChecking::Sanity)];
}

wire::GradientEncoding encodingOf(UpdateSize size) {
    switch (size) {
        case UpdateSize::Half:
            return wire::GRADIENT_ENCODING_BF16;
        case UpdateSize::Quarter:
            return wire::GRADIENT_ENCODING_INT8_BLOCK;
        case UpdateSize::Full:
            break;
    }
    return wire::GRADIENT_ENCODING_FP32;
}

// A job submitted elsewhere may carry fp16: it is "half" too.
QString updateSizeOf(const wire::Hyperparameters& h) {
    const QStringList names = updateSizeNames();
    switch (h.gradient_encoding()) {
        case wire::GRADIENT_ENCODING_BF16:
        case wire::GRADIENT_ENCODING_FP16:
            return names[int(UpdateSize::Half)];
        case wire::GRADIENT_ENCODING_INT8_BLOCK:
            return names[int(UpdateSize::Quarter)];
        default:
            return names[int(UpdateSize::Full)];
    }
}
}  // namespace

wire::LearningRateSchedule scheduleOf(const JobSettings& s) {
    wire::LearningRateSchedule w;
    switch (s.schedule) {
        case ScheduleChoice::Constant:
            w.set_kind(wire::LEARNING_RATE_SCHEDULE_KIND_CONSTANT);
            break;
        case ScheduleChoice::StepDecay:
            w.set_kind(wire::LEARNING_RATE_SCHEDULE_KIND_STEP);
            w.set_step_size(std::uint64_t(std::max(0, s.decayEvery)));
            w.set_gamma(s.decayFactor);
            break;
        case ScheduleChoice::WarmupCosine:
            w.set_warmup_steps(std::uint64_t(std::max(0, s.warmupSteps)));
            w.set_warmup_start_factor(0.01);  // from near zero, as warm-ups usually start
            [[fallthrough]];
        case ScheduleChoice::Cosine:
            w.set_kind(wire::LEARNING_RATE_SCHEDULE_KIND_COSINE);
            w.set_min_learning_rate(s.minLearningRate);
            break;
    }
    return w;
}

SettingsProblems checkSettings(const JobSettings& s, const data::Manifest& dataset, std::int64_t balance) {
    SettingsProblems p;
    const bool local = s.mode == TrainingMode::LocalSteps;
    if (!local && (s.batch <= 0 || s.batch % dataset.shardSize != 0))
        p.batch = QObject::tr("Contributors compute whole shards of %1 samples: use a multiple of %1, such as %2.")
                      .arg(dataset.shardSize)
                      .arg(dataset.shardSize * 4);
    if (s.budgetMicroCredits <= 0)
        p.budget = QObject::tr("Give the job a budget above zero: it pays the contributors.");
    else if (balance >= 0 && s.budgetMicroCredits > balance)
        p.budget = QObject::tr(
                       "The budget is more than your balance of %1 credits: lower it, or ask the "
                       "coordinator's operator for a deposit.")
                       .arg(app::creditsAmount(balance));
    try {
        optimizerConfig(s);
    } catch (const Error& e) {
        p.learningRate = QString::fromStdString(e.message());
    }
    if (local && (s.innerBatch <= 0 || s.innerBatch % dataset.shardSize != 0))
        p.mode = QObject::tr(
                     "Each inner step takes whole shards of %1 samples: make the inner batch a multiple of "
                     "%1, such as %2.")
                     .arg(dataset.shardSize)
                     .arg(dataset.shardSize * 4);
    else if (local && s.optimizer != OptimizerChoice::Adam && s.optimizer != OptimizerChoice::AdamW)
        p.mode = QObject::tr(
            "Local steps run Adam or AdamW inside each lane: choose one of them as the optimizer, "
            "or train every step together.");
    else if (local && s.checking != ResultChecking::Sanity)
        p.mode = QObject::tr(
                     "Local steps cannot be combined with these result checks yet (a lane cannot be "
                     "recomputed or clipped): choose \"%1\", or train every step together.")
                     .arg(resultCheckingNames()[int(ResultChecking::Sanity)]);
    else if (local && (s.lanes < 1 || s.innerSteps < 1 || s.staleness < 0 || s.staleness > 1))
        p.mode = QObject::tr("Give at least one lane and one inner step, and a staleness of 0 or 1.");
    if (s.schedule == ScheduleChoice::StepDecay && s.decayEvery <= 0)
        p.schedule = QObject::tr("Say after how many steps the rate decays, e.g. 100.");
    else if (s.schedule == ScheduleChoice::StepDecay && (s.decayFactor <= 0 || s.decayFactor > 1))
        p.schedule =
            QObject::tr("The decay factor multiplies the rate: give a number above 0 and at most 1, e.g. 0.5.");
    else if ((s.schedule == ScheduleChoice::Cosine || s.schedule == ScheduleChoice::WarmupCosine) &&
             s.minLearningRate >= s.learningRate)
        p.schedule = QObject::tr("The cosine schedule ends at the final rate: make it lower than the learning rate.");
    else if (s.schedule == ScheduleChoice::WarmupCosine && s.warmupSteps <= 0)
        p.schedule = QObject::tr("Give the warm-up a number of steps, e.g. 100, or choose plain cosine.");
    else if (s.schedule == ScheduleChoice::WarmupCosine && dataset.shardSize > 0 && samplesPerStep(s) > 0) {
        const std::int64_t batch = samplesPerStep(s);
        const std::int64_t perEpoch = (std::int64_t(dataset.train.samples) + batch - 1) / batch;
        const std::int64_t steps =
            s.maxSteps > 0 ? std::min<std::int64_t>(s.maxSteps, perEpoch * s.epochs) : perEpoch * s.epochs;
        if (s.warmupSteps >= steps)
            p.schedule = QObject::tr("The warm-up (%1 steps) is as long as the whole job (%2 steps): shorten it.")
                             .arg(s.warmupSteps)
                             .arg(steps);
    }
    return p;
}

QJsonObject describeJob(const JobSettings& s, const data::Manifest& dataset, const QString& modelName) {
    static const char* optimizers[] = {"Adam", "AdamW", "SGD", "SGD with momentum 0.9"};
    return {{"dataset", QString::fromStdString(dataset.name)},
            {"training samples", qint64(dataset.train.samples)},
            {"model", modelName},
            {"optimizer", QString::fromLatin1(optimizers[int(s.optimizer)])},
            {"learning rate", s.learningRate},
            {"learning-rate schedule", requester::describeLrSchedule(scheduleOf(s))},
            {"batch", qint64(samplesPerStep(s))},
            {"epochs", s.epochs},
            {"stop after steps", qint64(s.maxSteps)},
            {"evaluate every", s.evalEverySteps},
            {"checkpoint every", s.checkpointEverySteps},
            {"priority", s.priority},
            {"budget (credits)", requester::formatCredits(s.budgetMicroCredits)},
            {"result checks", resultCheckingNames()[int(s.checking)]},
            {"training mode", describeTrainingMode(s)},
            {"update size", updateSizeNames()[int(s.updates)]},
            {"weights down", weightsDownNames()[int(s.weightsDown)]}};
}

QJsonObject describeJob(const wire::JobInfo& job, const QJsonObject& recorded) {
    QJsonObject out = recorded;
    if (!job.has_hyperparameters()) return out;  // a coordinator too old to say
    const wire::Hyperparameters& h = job.hyperparameters();
    QString optimizer;
    if (h.optimizer() == "adam" || h.optimizer().empty())
        optimizer = QStringLiteral("Adam");
    else if (h.optimizer() == "adamw")
        optimizer = QStringLiteral("AdamW");
    else if (h.optimizer() == "sgd" && h.momentum() == 0)
        optimizer = QStringLiteral("SGD");
    else
        optimizer = QStringLiteral("SGD with momentum %1").arg(h.momentum() == 0 ? 0.9 : h.momentum());
    if (!recorded.contains("dataset")) out["dataset"] = QString::fromStdString(job.dataset_id()).left(12);
    if (!recorded.contains("model"))
        out["model"] = QObject::tr("spec %1").arg(QString::fromStdString(job.model_spec_sha256()).left(12));
    out["optimizer"] = optimizer;
    out["learning rate"] = h.learning_rate();
    out["learning-rate schedule"] = requester::describeLrSchedule(h.lr_schedule());
    out["batch"] = qint64(h.global_batch());
    out["epochs"] = qint64(std::max<std::uint32_t>(1, h.epochs()));
    out["stop after steps"] = qint64(h.max_steps());
    out["evaluate every"] = qint64(h.eval_every_steps());
    out["checkpoint every"] = h.checkpoint_every_steps() == 0 ? QJsonValue(QObject::tr("the coordinator's default"))
                                                              : QJsonValue(qint64(h.checkpoint_every_steps()));
    out["priority"] = job.priority();
    out["budget (credits)"] = requester::formatCredits(job.budget_micro_credits());
    out["result checks"] = resultCheckingOf(h);
    out["training mode"] = h.has_local_steps()
                               ? localStepsText(h.local_steps().lanes(), h.local_steps().inner_steps(),
                                                h.local_steps().inner_batch(), h.local_steps().staleness())
                               : QObject::tr("every step together");
    out["update size"] = updateSizeOf(h);
    out["weights down"] =
        weightsDownNames()[int(h.weights_down_encoding() == wire::GRADIENT_ENCODING_INT8_BLOCK ? WeightsDown::Int8Deltas
                                                                                               : WeightsDown::Whole)];
    return out;
}

wire::CreateJob makeCreateJob(const JobSettings& s, const data::Manifest& dataset) {
    wire::CreateJob job;
    job.set_name(s.name.trimmed().toStdString());
    job.set_budget_micro_credits(s.budgetMicroCredits);
    job.set_priority(s.priority);
    wire::Hyperparameters& h = *job.mutable_hyperparameters();
    requester::setOptimizer(h, optimizerConfig(s));
    h.set_global_batch(std::uint32_t(samplesPerStep(s)));
    if (s.mode == TrainingMode::LocalSteps) {
        wire::LocalStepsPlan& local = *h.mutable_local_steps();
        local.set_lanes(std::uint32_t(s.lanes));
        local.set_inner_steps(std::uint32_t(s.innerSteps));
        local.set_inner_batch(std::uint32_t(s.innerBatch));
        local.set_staleness(std::uint32_t(s.staleness));
        requester::setOuterStep(local, std::nullopt, std::nullopt);  // the outer settings measured for its staleness
    }
    h.set_epochs(std::uint32_t(s.epochs));
    h.set_max_steps(std::uint64_t(s.maxSteps));
    h.set_seed(1);
    *h.mutable_lr_schedule() = scheduleOf(s);
    h.set_gradient_encoding(encodingOf(s.updates));
    h.set_weights_down_encoding(s.weightsDown == WeightsDown::Int8Deltas ? wire::GRADIENT_ENCODING_INT8_BLOCK
                                                                         : wire::GRADIENT_ENCODING_FP32);
    std::uint32_t evalEvery = std::uint32_t(s.evalEverySteps);
    if (evalEvery == 0) {
        // After every epoch, as the local trainer does.
        const std::int64_t shardsPerStep = std::max<std::int64_t>(1, samplesPerStep(s) / dataset.shardSize);
        const auto shards = std::int64_t(dataset.train.shards.size());
        evalEvery = std::uint32_t((shards + shardsPerStep - 1) / shardsPerStep);
        if (s.maxSteps > 0)
            evalEvery = std::min<std::uint32_t>(evalEvery, std::uint32_t(std::max<std::int64_t>(1, s.maxSteps / 4)));
    }
    h.set_eval_every_steps(evalEvery);
    h.set_checkpoint_every_steps(std::uint32_t(s.checkpointEverySteps));
    h.set_kernel_mode(s.checking == ResultChecking::Recompute ? wire::KERNEL_MODE_VERIFIABLE : wire::KERNEL_MODE_FAST);
    const bool clipped = s.checking == ResultChecking::ClipOutliers || s.checking == ResultChecking::SpotCheck;
    h.set_aggregation(clipped ? wire::AGGREGATION_CENTRED_CLIP : wire::AGGREGATION_MEAN);
    h.set_spot_check(s.checking == ResultChecking::SpotCheck);
    return job;
}

}  // namespace raven::console
