#pragma once
// StepPlan: which shards make up each optimizer step of a distributed job.
//
//   StepPlan plan(manifest, {.globalBatch = 128, .epochs = 8, .seed = 1});
//   plan.totalSteps();                 // 8 * ceil(1875 / 4) for Fashion-MNIST's 32-sample shards
//   plan.shardsOfStep(17);             // the 4 shards whose summed gradients make step 17
//   StepPlan::cut(plan.shardsOfStep(17), 2);   // two work units of two shards each
//
// Epoch e visits the training split's shards in the order data::seededPermutation(shards, seed + e);
// step i of the epoch takes the next globalBatch / shardSize shards of that order (the last step of an
// epoch may take fewer). The plan is a pure function of the manifest and the options, so the
// coordinator can recompute it after a restart, and `raven train --local` with
// TrainOptions::shuffleBlock = shardSize visits exactly the same batches (Trainer.h).
#include <cstdint>
#include <vector>

#include "data/Manifest.h"

namespace raven::training {

struct StepPlanOptions {
    std::int64_t globalBatch = 128;  // samples per step; a multiple of the manifest's shard size
    int epochs = 1;
    std::int64_t maxSteps = 0;  // > 0: stop after this many steps
    std::uint64_t seed = 1;
};

class StepPlan {
public:
    // raven::Error when the global batch is not a positive multiple of the shard size, the split has
    // no shards, or epochs < 1.
    StepPlan(const data::Manifest& manifest, StepPlanOptions options);

    const StepPlanOptions& options() const { return options_; }
    std::int64_t shardsPerStep() const { return shardsPerStep_; }
    std::int64_t stepsPerEpoch() const { return stepsPerEpoch_; }
    std::int64_t totalSteps() const { return totalSteps_; }
    int epochOf(std::int64_t step) const { return static_cast<int>(step / stepsPerEpoch_); }

    // The training shards of step `step` (0-based, < totalSteps()), in plan order.
    std::vector<data::ShardRef> shardsOfStep(std::int64_t step) const;
    std::int64_t samplesOfStep(std::int64_t step) const;

    // Cuts a step's shards into work units of at most `shardsPerUnit` shards, in order.
    static std::vector<std::vector<data::ShardRef>> cut(const std::vector<data::ShardRef>& shards,
                                                        std::int64_t shardsPerUnit);

private:
    std::vector<data::ShardRef> train_;
    StepPlanOptions options_;
    std::int64_t shardsPerStep_ = 0;
    std::int64_t stepsPerEpoch_ = 0;
    std::int64_t totalSteps_ = 0;
};

}  // namespace raven::training
