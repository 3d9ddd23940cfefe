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
// plain mean), by clipping results far from the others (fast kernels, centred clipping), by clipping
// and recomputing a share of the work units within the fast kernels' rounding (spot checks), or by
// recomputing a share of the work units bit for bit (verifiable kernels).
enum class ResultChecking { Sanity, ClipOutliers, SpotCheck, Recompute };
// The choices as the form lists them, in ResultChecking order.
QStringList resultCheckingNames();
// How the job trains (docs/training.md, "Choosing a mode"): every step computed by all contributors
// together (data-parallel), or local steps (DiLoCo): lanes of inner steps, for slow links.
enum class TrainingMode { EveryStep, LocalSteps };
// The choices as the form lists them, in TrainingMode order.
QStringList trainingModeNames();
// How big the updates contributors send are (docs/training.md, "8-bit updates"): exact fp32, bfloat16
// (half the bytes), or int8 blocks with stochastic rounding (a quarter).
enum class UpdateSize { Full, Half, Quarter };
// The choices as the form lists them, in UpdateSize order.
QStringList updateSizeNames();
// How the weights come down to contributors (docs/training.md, "8-bit weights down"): whole each
// version (fp32), or as int8 deltas of the last version (a quarter, error feedback kept by the
// coordinator; contributors then compute on the weights the deltas make).
enum class WeightsDown { Whole, Int8Deltas };
// The choices as the form lists them, in WeightsDown order.
QStringList weightsDownNames();

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
    TrainingMode mode = TrainingMode::EveryStep;
    int lanes = 4;         // local steps: work units per round
    int innerSteps = 8;    // local steps: H, optimizer steps a lane takes on its own
    int innerBatch = 128;  // local steps: samples per inner step
    int staleness = 0;     // local steps: 1 starts each round from the weights one round old
    UpdateSize updates = UpdateSize::Full;
    WeightsDown weightsDown = WeightsDown::Whole;
};

// Samples per optimizer step of the model: the batch, or with local steps a round's
// (lanes x inner steps x inner batch).
std::int64_t samplesPerStep(const JobSettings& s);
// The training mode in a sentence ("every step together", "local steps: 4 lanes x 8 inner steps of
// 128 samples, next round at once").
QString describeTrainingMode(const JobSettings& s);

struct SettingsProblems {
    QString batch, budget, learningRate, schedule, mode;
    bool any() const {
        return !batch.isEmpty() || !budget.isEmpty() || !learningRate.isEmpty() || !schedule.isEmpty() ||
               !mode.isEmpty();
    }
};

// `balance` < 0: not known yet (no budget check against it).
SettingsProblems checkSettings(const JobSettings& s, const data::Manifest& dataset, std::int64_t balance);

// The job's settings as people compare them (the compare page's diff, the watch page's x axis by
// samples and epochs): dataset and its training samples, model, optimizer, learning rate, batch,
// epochs, stop after, evaluation and checkpoint intervals, priority, budget, result checks, training mode,
// update size.
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
