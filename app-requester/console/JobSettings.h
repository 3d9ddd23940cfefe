#pragma once
// JobSettings: what the submit form asks, in the requester's words, and how it becomes the
// coordinator's CreateJob (the same hyperparameters `raven submit` sends), with the checks that
// belong to each field, so that the form shows a problem beside the field it is about.
#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <cstdint>

#include "protocol/raven.pb.h"

namespace raven::data {
struct Manifest;
}

namespace raven::console {

enum class OptimizerChoice { Adam, AdamW, Sgd, Momentum };
// How the learning rate changes over the job (raven.proto's LearningRateSchedule).
enum class ScheduleChoice { Constant, StepDecay, Cosine, WarmupCosine };
// The choices as the form lists them, in ScheduleChoice order.
QStringList scheduleChoiceNames();
// How contributors' results are checked (docs/verification.md): only for sanity (fast kernels, the
// plain mean), by clipping results far from the others (fast kernels, centred clipping), or by
// recomputing a share of the work units bit for bit (verifiable kernels).
enum class ResultChecking { Sanity, ClipOutliers, Recompute };
// The choices as the form lists them, in ResultChecking order.
QStringList resultCheckingNames();

struct JobSettings {
    QString name;
    OptimizerChoice optimizer = OptimizerChoice::Adam;
    double learningRate = 1e-3;
    ScheduleChoice schedule = ScheduleChoice::Constant;
    int decayEvery = 100;        // step decay: steps between two decays
    double decayFactor = 0.5;    // step decay: the rate is multiplied by this at each decay
    int warmupSteps = 100;       // warm-up + cosine: steps of linear warm-up
    double minLearningRate = 0;  // cosine: the rate at the last step
    int batch = 128;
    int epochs = 1;
    std::int64_t maxSteps = 0;     // 0: as many as the epochs take
    int evalEverySteps = 0;        // 0: after every epoch
    int checkpointEverySteps = 0;  // 0: the coordinator's default
    int priority = 0;
    std::int64_t budgetMicroCredits = 0;
    ResultChecking checking = ResultChecking::Sanity;
};

struct SettingsProblems {
    QString batch, budget, learningRate, schedule;
    bool any() const { return !batch.isEmpty() || !budget.isEmpty() || !learningRate.isEmpty() || !schedule.isEmpty(); }
};

// `balance` < 0: not known yet (no budget check against it).
SettingsProblems checkSettings(const JobSettings& s, const data::Manifest& dataset, std::int64_t balance);

// The job's settings as people compare them (the compare page's diff, the watch page's x axis by
// samples and epochs): dataset and its training samples, model, optimizer, learning rate, batch,
// epochs, stop after, evaluation and checkpoint intervals, priority, budget, result checks.
QJsonObject describeJob(const JobSettings& s, const data::Manifest& dataset, const QString& modelName);
// The same settings of any job, from what the coordinator says of it (JobInfo carries them), so that
// jobs submitted elsewhere compare too. `recorded` (describeJob of a job submitted here, or empty)
// gives the names the coordinator does not know: the dataset's and the model's, the training samples.
QJsonObject describeJob(const wire::JobInfo& job, const QJsonObject& recorded);

// The schedule as the wire carries it.
wire::LearningRateSchedule scheduleOf(const JobSettings& s);

// raven::Error for settings the optimizer refuses (checkSettings catches those first).
wire::CreateJob makeCreateJob(const JobSettings& s, const data::Manifest& dataset);

}  // namespace raven::console
