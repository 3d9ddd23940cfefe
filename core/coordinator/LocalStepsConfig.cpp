#include "coordinator/LocalStepsConfig.h"

#include <cmath>
#include <string>

#include "base/Error.h"

namespace raven::coordinator {

namespace {

// Bounds that no sensible job reaches, so that a typo cannot make a round of 2^32 lanes.
constexpr std::uint32_t kMostLanes = 4096;
constexpr std::uint32_t kMostInnerSteps = 100000;

}  // namespace

std::optional<LocalStepsConfig> localStepsOf(const wire::Hyperparameters& h, const nn::OptimizerConfig& inner) {
    if (!h.has_local_steps()) return std::nullopt;
    const wire::LocalStepsPlan& p = h.local_steps();
    RAVEN_CHECK(p.lanes() >= 1 && p.lanes() <= kMostLanes,
                "hyperparameters: local_steps.lanes is " + std::to_string(p.lanes()),
                "give the lanes per round (units of one round), 1 to " + std::to_string(kMostLanes) + ", e.g. 8");
    RAVEN_CHECK(p.inner_steps() >= 1 && p.inner_steps() <= kMostInnerSteps,
                "hyperparameters: local_steps.inner_steps is " + std::to_string(p.inner_steps()),
                "give the inner optimizer steps per lane, 1 to " + std::to_string(kMostInnerSteps) + ", e.g. 32");
    RAVEN_CHECK(p.inner_batch() >= 1, "hyperparameters: local_steps.inner_batch is 0",
                "give the samples of one inner step, a multiple of the dataset's shard size (e.g. 64)");
    RAVEN_CHECK(inner.kind == nn::OptimizerKind::Adam || inner.kind == nn::OptimizerKind::AdamW,
                "hyperparameters: local steps need an adam or adamw inner optimizer, not " + nn::toString(inner.kind),
                "use --optimizer adamw (DiLoCo's inner optimizer) or adam");
    RAVEN_CHECK(h.kernel_mode() != wire::KERNEL_MODE_VERIFIABLE,
                "hyperparameters: local-steps jobs cannot use verifiable kernels yet",
                "use fast kernels (the replay of a lane's inner steps is not built yet)");
    LocalStepsConfig c;
    c.lanes = p.lanes();
    c.innerSteps = p.inner_steps();
    c.innerBatch = p.inner_batch();
    if (p.outer_learning_rate() != 0.0) c.outerLearningRate = p.outer_learning_rate();
    RAVEN_CHECK(std::isfinite(c.outerLearningRate) && c.outerLearningRate > 0.0,
                "hyperparameters: local_steps.outer_learning_rate is " + std::to_string(c.outerLearningRate),
                "give a positive outer rate (DiLoCo uses 0.7), or 0 for that default");
    if (p.outer_momentum() < 0.0)
        c.outerMomentum = 0.0;
    else if (p.outer_momentum() != 0.0)
        c.outerMomentum = p.outer_momentum();
    RAVEN_CHECK(std::isfinite(c.outerMomentum) && c.outerMomentum < 1.0,
                "hyperparameters: local_steps.outer_momentum is " + std::to_string(p.outer_momentum()),
                "give a momentum below 1 (DiLoCo uses 0.9), 0 for that default, or a negative number for none");
    RAVEN_CHECK(p.staleness() <= 1, "hyperparameters: local_steps.staleness is " + std::to_string(p.staleness()),
                "give 0 (every round from the newest weights) or 1 (a round from the weights one round old, so "
                "that workers never wait for the outer step); larger delays are not supported");
    c.staleness = p.staleness();
    RAVEN_CHECK(c.roundSamples() <= (std::int64_t(1) << 31),
                "hyperparameters: a round of " + std::to_string(c.lanes) + " lanes x " +
                    std::to_string(c.innerSteps) + " inner steps x " + std::to_string(c.innerBatch) +
                    " samples is too large",
                "use fewer lanes, inner steps or samples per inner step");
    RAVEN_CHECK(h.global_batch() == 0 || static_cast<std::int64_t>(h.global_batch()) == c.roundSamples(),
                "hyperparameters: global_batch is " + std::to_string(h.global_batch()) + " but a round of " +
                    std::to_string(c.lanes) + " lanes x " + std::to_string(c.innerSteps) + " inner steps x " +
                    std::to_string(c.innerBatch) + " samples takes " + std::to_string(c.roundSamples()),
                "leave global_batch 0 for a local-steps job, or give the round's samples");
    return c;
}

nn::OptimizerConfig outerOptimizer(const LocalStepsConfig& config) {
    nn::OptimizerConfig outer = nn::OptimizerConfig::defaults(nn::OptimizerKind::Sgd);
    outer.lr = config.outerLearningRate;
    outer.momentum = config.outerMomentum;
    outer.nesterov = config.outerMomentum > 0.0;
    outer.validate();
    return outer;
}

std::int64_t shardsPerInnerStep(const LocalStepsConfig& config, const data::Manifest& manifest) {
    RAVEN_CHECK(manifest.shardSize > 0 && config.innerBatch % manifest.shardSize == 0,
                "local steps: an inner batch of " + std::to_string(config.innerBatch) +
                    " samples is not a multiple of dataset " + manifest.name + "'s shard size " +
                    std::to_string(manifest.shardSize),
                "choose an inner batch of k * " + std::to_string(manifest.shardSize) + " samples");
    return config.innerBatch / manifest.shardSize;
}

std::int64_t laneShards(const LocalStepsConfig& config, const data::Manifest& manifest) {
    return shardsPerInnerStep(config, manifest) * config.innerSteps;
}

wire::LocalStepsUnit laneUnit(const LocalStepsConfig& config, const nn::OptimizerConfig& inner, double innerRate,
                              const data::Manifest& manifest) {
    wire::LocalStepsUnit u;
    u.set_shards_per_inner_step(static_cast<std::uint32_t>(shardsPerInnerStep(config, manifest)));
    u.set_optimizer(nn::toString(inner.kind));
    u.set_learning_rate(innerRate);
    u.set_beta1(inner.beta1);
    u.set_beta2(inner.beta2);
    u.set_epsilon(inner.eps);
    u.set_weight_decay(inner.weightDecay);
    return u;
}

}  // namespace raven::coordinator
