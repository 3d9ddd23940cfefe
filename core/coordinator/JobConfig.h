#pragma once
// JobConfig: a job's settings as the coordinator runs them, read from the requester's
// wire::Hyperparameters with Raven's defaults filled in, and kept in the store's hyperparameters
// column (JSON) so that a restarted coordinator runs the job exactly as before.
//
//   JobConfig config = JobConfig::fromWire(create.hyperparameters(), create.priority(), specSha);
//   store.addJob({requester, name, specObject, config.toJson(), datasetId}, now);
//   JobConfig again = JobConfig::fromJson(store.job(id)->hyperparameters);   // == config
//
// Zero means "the default" for the fields proto3 cannot leave unset: learning_rate (the optimizer's
// default), beta1/beta2/epsilon (0.9, 0.999, 1e-8), epochs (1), momentum for "momentum" (0.9),
// weight_decay for "adamw" (0.01), checkpoint_every_steps (50), gradient_encoding (fp32; it is the
// encoding of every update sent up, a gradient or a local-steps lane's pseudo-gradient),
// weights_down_encoding (fp32), kernel_mode (fast), aggregation (mean), clip_multiplier (2), outlier_multiplier (5);
// eval_every_steps 0 evaluates at the end only; an empty optimizer is "adam".
#include <QJsonObject>
#include <QString>

#include <cstdint>

#include "coordinator/LocalStepsConfig.h"
#include "coordinator/RobustAggregation.h"
#include "nn/Optimizer.h"
#include "protocol/raven.pb.h"
#include "tensor/KernelMode.h"
#include "training/StepPlan.h"

namespace raven::coordinator {

inline constexpr std::int64_t kDefaultCheckpointEverySteps = 50;

struct JobConfig {
    wire::Hyperparameters hyperparameters;  // as the requester sent them
    QString modelSpecSha256;                // the spec's name (specs/<sha>.json)
    int priority = 0;                       // higher leases first
    nn::OptimizerConfig optimizer;
    training::StepPlanOptions plan;
    std::int64_t evalEverySteps = 0;  // 0: at the end only
    std::int64_t checkpointEverySteps = kDefaultCheckpointEverySteps;
    wire::GradientEncoding gradientEncoding = wire::GRADIENT_ENCODING_FP32;
    bool gradientZstd = false;
    // How the weights come down: fp32 whole, or int8 deltas of the published lineage P
    // (checkpoint/WeightsDelta.h), which the job's workers then compute on.
    wire::GradientEncoding weightsDownEncoding = wire::GRADIENT_ENCODING_FP32;
    bool int8WeightsDown() const { return weightsDownEncoding == wire::GRADIENT_ENCODING_INT8_BLOCK; }
    // The kernels of every unit (tensor/KernelMode.h): verifiable units are replayed and verified.
    KernelMode kernelMode = KernelMode::Fast;
    // A fast job whose results are replayed as a verifiable job's, compared within a tolerance
    // (ResultComparison.h).
    bool spotCheck = false;
    // How a step combines its units' gradients (RobustAggregation.h).
    Aggregation aggregation = Aggregation::Mean;
    RobustOptions robust;
    // Shards per work unit, fixed when the job is created (UnitSizing.h) and kept with the job, so
    // that every step is cut the same way whoever computes it; 0 only in jobs stored before it was.
    std::int64_t shardsPerUnit = 0;
    // Local-steps (DiLoCo) training, LocalStepsConfig.h: then `optimizer` is the lanes' inner one, a
    // step is a round (plan.globalBatch its samples) and shardsPerUnit one lane's shards.
    std::optional<LocalStepsConfig> localSteps;

    // The optimizer the coordinator steps with: `optimizer`, or the outer one of a local-steps job.
    nn::OptimizerConfig stepOptimizer() const { return localSteps ? outerOptimizer(*localSteps) : optimizer; }
    // Whether the coordinator replays a share of the job's results before accepting them (ResultVerifier)
    // and rewinds a caught contributor's unchecked ones (ModelRewind).
    bool replaysResults() const { return kernelMode == KernelMode::Verifiable || spotCheck; }

    // raven::Error naming the field for an unknown optimizer, a negative rate, betas outside [0, 1),
    // a global batch of 0. The plan's own checks (batch vs shard size) need the manifest: StepPlan.
    static JobConfig fromWire(const wire::Hyperparameters& hyperparameters, int priority, const QString& specSha256);
    QJsonObject toJson() const;
    static JobConfig fromJson(const QJsonObject& json);
};

}  // namespace raven::coordinator
