#include "training/StepPlan.h"

#include <algorithm>

#include "base/Error.h"
#include "data/Split.h"

namespace raven::training {

StepPlan::StepPlan(const data::Manifest& manifest, StepPlanOptions options)
    : train_(manifest.train.shards), options_(options) {
    const std::int64_t shardSize = manifest.shardSize;
    RAVEN_CHECK(options_.globalBatch > 0 && shardSize > 0 && options_.globalBatch % shardSize == 0,
                "job plan: a global batch of " + std::to_string(options_.globalBatch) +
                    " samples is not a multiple of dataset " + manifest.name + "'s shard size " +
                    std::to_string(shardSize),
                "choose a global batch of k * " + std::to_string(shardSize) + " samples");
    RAVEN_CHECK(!train_.empty(), "job plan: dataset " + manifest.name + " has no training shards",
                "import a dataset with a training split");
    RAVEN_CHECK(options_.epochs >= 1, "job plan: epochs must be at least 1", "");
    RAVEN_CHECK(options_.maxSteps >= 0, "job plan: max steps must not be negative", "");
    const auto shards = static_cast<std::int64_t>(train_.size());
    shardsPerStep_ = options_.globalBatch / shardSize;
    stepsPerEpoch_ = (shards + shardsPerStep_ - 1) / shardsPerStep_;
    totalSteps_ = stepsPerEpoch_ * options_.epochs;
    if (options_.maxSteps > 0) totalSteps_ = std::min(totalSteps_, options_.maxSteps);
}

std::vector<data::ShardRef> StepPlan::shardsOfStep(std::int64_t step) const {
    RAVEN_CHECK(step >= 0 && step < totalSteps_,
                "job plan: step " + std::to_string(step) + " is outside 0.." + std::to_string(totalSteps_ - 1), "");
    const auto shards = static_cast<std::int64_t>(train_.size());
    const int epoch = epochOf(step);
    // One permutation per epoch; recomputing it per step keeps the plan stateless (it is cheap:
    // about 2k shards for Fashion-MNIST).
    const std::vector<std::int64_t> order =
        data::seededPermutation(shards, options_.seed + static_cast<std::uint64_t>(epoch));
    const std::int64_t begin = (step % stepsPerEpoch_) * shardsPerStep_;
    const std::int64_t end = std::min(begin + shardsPerStep_, shards);
    std::vector<data::ShardRef> out;
    out.reserve(static_cast<std::size_t>(end - begin));
    for (std::int64_t k = begin; k < end; ++k)
        out.push_back(train_[static_cast<std::size_t>(order[static_cast<std::size_t>(k)])]);
    return out;
}

std::int64_t StepPlan::samplesOfStep(std::int64_t step) const {
    std::int64_t n = 0;
    for (const data::ShardRef& shard : shardsOfStep(step)) n += shard.samples;
    return n;
}

std::vector<std::vector<data::ShardRef>> StepPlan::cut(const std::vector<data::ShardRef>& shards,
                                                       std::int64_t shardsPerUnit) {
    RAVEN_CHECK(shardsPerUnit >= 1, "job plan: a work unit needs at least one shard", "");
    std::vector<std::vector<data::ShardRef>> units;
    for (std::size_t i = 0; i < shards.size(); i += static_cast<std::size_t>(shardsPerUnit)) {
        const std::size_t end = std::min(shards.size(), i + static_cast<std::size_t>(shardsPerUnit));
        units.emplace_back(shards.begin() + static_cast<std::ptrdiff_t>(i),
                           shards.begin() + static_cast<std::ptrdiff_t>(end));
    }
    return units;
}

}  // namespace raven::training
