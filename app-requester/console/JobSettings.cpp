#include "JobSettings.h"

#include <QObject>

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

SettingsProblems checkSettings(const JobSettings& s, const data::Manifest& dataset, std::int64_t balance) {
    SettingsProblems p;
    if (s.batch <= 0 || s.batch % dataset.shardSize != 0)
        p.batch = QObject::tr("Contributors compute whole shards of %1 samples: use a multiple of %1, such as %2.")
                      .arg(dataset.shardSize)
                      .arg(dataset.shardSize * 4);
    if (s.budgetMicroCredits <= 0)
        p.budget = QObject::tr("Give the job a budget above zero: it pays the contributors.");
    else if (balance >= 0 && s.budgetMicroCredits > balance)
        p.budget = QObject::tr(
                       "The budget is more than your balance of %1 credits: lower it, or ask the "
                       "coordinator's operator for a deposit.")
                       .arg(requester::formatCredits(balance));
    try {
        optimizerConfig(s);
    } catch (const Error& e) {
        p.learningRate = QString::fromStdString(e.message());
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
            {"batch", s.batch},
            {"epochs", s.epochs},
            {"stop after steps", qint64(s.maxSteps)},
            {"evaluate every", s.evalEverySteps},
            {"checkpoint every", s.checkpointEverySteps},
            {"priority", s.priority},
            {"budget (credits)", requester::formatCredits(s.budgetMicroCredits)}};
}

wire::CreateJob makeCreateJob(const JobSettings& s, const data::Manifest& dataset) {
    wire::CreateJob job;
    job.set_name(s.name.trimmed().toStdString());
    job.set_budget_micro_credits(s.budgetMicroCredits);
    job.set_priority(s.priority);
    wire::Hyperparameters& h = *job.mutable_hyperparameters();
    requester::setOptimizer(h, optimizerConfig(s));
    h.set_global_batch(std::uint32_t(s.batch));
    h.set_epochs(std::uint32_t(s.epochs));
    h.set_max_steps(std::uint64_t(s.maxSteps));
    h.set_seed(1);
    h.set_gradient_encoding(wire::GRADIENT_ENCODING_FP32);
    std::uint32_t evalEvery = std::uint32_t(s.evalEverySteps);
    if (evalEvery == 0) {
        // After every epoch, as the local trainer does.
        const std::int64_t shardsPerStep = std::max<std::int64_t>(1, s.batch / dataset.shardSize);
        const auto shards = std::int64_t(dataset.train.shards.size());
        evalEvery = std::uint32_t((shards + shardsPerStep - 1) / shardsPerStep);
        if (s.maxSteps > 0)
            evalEvery = std::min<std::uint32_t>(evalEvery, std::uint32_t(std::max<std::int64_t>(1, s.maxSteps / 4)));
    }
    h.set_eval_every_steps(evalEvery);
    h.set_checkpoint_every_steps(std::uint32_t(s.checkpointEverySteps));
    return job;
}

}  // namespace raven::console
