#include "worker/LocalStepsLane.h"

#include "base/Error.h"
#include "training/LocalSteps.h"

namespace raven::worker {

nn::OptimizerConfig LocalStepsLane::innerOptimizer(const wire::WorkUnit& unit) {
    const wire::LocalStepsUnit& lane = unit.local_steps_unit();
    RAVEN_CHECK(lane.optimizer() == "adam" || lane.optimizer() == "adamw",
                "work unit " + unit.id() + " asks for inner optimizer \"" + lane.optimizer() +
                    "\", which this worker does not know",
                "update raven-worker");
    nn::OptimizerConfig c =
        nn::OptimizerConfig::defaults(lane.optimizer() == "adam" ? nn::OptimizerKind::Adam : nn::OptimizerKind::AdamW);
    c.lr = lane.learning_rate();
    c.beta1 = lane.beta1();
    c.beta2 = lane.beta2();
    c.eps = lane.epsilon();
    c.weightDecay = lane.weight_decay();
    c.validate();
    return c;
}

training::GradientSums LocalStepsLane::compute(nn::Model& model, const wire::WorkUnit& unit,
                                               const std::vector<std::shared_ptr<const DecodedShard>>& shards,
                                               const data::Manifest& manifest) {
    const std::int64_t perStep = unit.local_steps_unit().shards_per_inner_step();
    RAVEN_CHECK(perStep >= 1, "work unit " + unit.id() + " gives its inner steps no shards",
                "the coordinator sent a damaged unit");
    const auto steps = (static_cast<std::int64_t>(shards.size()) + perStep - 1) / perStep;
    RAVEN_CHECK(steps <= static_cast<std::int64_t>(unit.local_steps()),
                "work unit " + unit.id() + " has " + std::to_string(shards.size()) + " shards, " +
                    std::to_string(steps) + " inner steps of " + std::to_string(perStep) + ", but names " +
                    std::to_string(unit.local_steps()) + " local steps",
                "the coordinator sent an inconsistent unit");
    std::vector<const data::Samples*> samples;
    samples.reserve(shards.size());
    for (const auto& shard : shards) samples.push_back(&shard->samples);
    return training::runLocalSteps(model, training::innerBatches(samples, perStep), manifest.normalization,
                                   innerOptimizer(unit));
}

}  // namespace raven::worker
