#pragma once
// JobSettings: what the submit form asks, in the requester's words, and how it becomes the
// coordinator's CreateJob (the same hyperparameters `raven submit` sends), with the checks that
// belong to each field, so that the form shows a problem beside the field it is about.
#include <QJsonObject>
#include <QString>
#include <cstdint>

#include "protocol/raven.pb.h"

namespace raven::data {
struct Manifest;
}

namespace raven::console {

enum class OptimizerChoice { Adam, AdamW, Sgd, Momentum };

struct JobSettings {
    QString name;
    OptimizerChoice optimizer = OptimizerChoice::Adam;
    double learningRate = 1e-3;
    int batch = 128;
    int epochs = 1;
    std::int64_t maxSteps = 0;     // 0: as many as the epochs take
    int evalEverySteps = 0;        // 0: after every epoch
    int checkpointEverySteps = 0;  // 0: the coordinator's default
    int priority = 0;
    std::int64_t budgetMicroCredits = 0;
};

struct SettingsProblems {
    QString batch, budget, learningRate;
    bool any() const { return !batch.isEmpty() || !budget.isEmpty() || !learningRate.isEmpty(); }
};

// `balance` < 0: not known yet (no budget check against it).
SettingsProblems checkSettings(const JobSettings& s, const data::Manifest& dataset, std::int64_t balance);

// The job's settings as people compare them (the compare page's diff, the watch page's x axis by
// samples and epochs): dataset and its training samples, model, optimizer, learning rate, batch,
// epochs, stop after, evaluation and checkpoint intervals, priority, budget.
QJsonObject describeJob(const JobSettings& s, const data::Manifest& dataset, const QString& modelName);

// raven::Error for settings the optimizer refuses (checkSettings catches those first).
wire::CreateJob makeCreateJob(const JobSettings& s, const data::Manifest& dataset);

}  // namespace raven::console
