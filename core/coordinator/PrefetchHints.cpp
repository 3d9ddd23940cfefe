#include "coordinator/PrefetchHints.h"

#include "coordinator/JobRunner.h"
#include "training/StepPlan.h"

namespace raven::coordinator {

QStringList PrefetchHints::forUnit(const JobRunner& runner, std::int64_t shardsPerUnit, const ledger::WorkUnit& unit) {
    // The unit's own step, not the runner's version: a unit leased ahead (JobRunner::leasesAhead())
    // belongs to the next one.
    const qint64 step = unit.modelVersion;
    const training::StepPlan& plan = runner.plan();
    if (unit.shardHashes.isEmpty() || step < runner.version() || step >= plan.totalSteps()) return {};
    Cut& cut = cuts_[runner.id()];
    if (cut.version != step) {
        cut = Cut{};
        cut.version = step;
        const auto now = training::StepPlan::cut(plan.shardsOfStep(step), shardsPerUnit);
        for (std::size_t place = 0; place < now.size(); ++place)
            if (!now[place].empty()) cut.placeOfFirstShard.insert(now[place].front().hash, static_cast<int>(place));
        if (step + 1 < plan.totalSteps())
            for (const auto& shards : training::StepPlan::cut(plan.shardsOfStep(step + 1), shardsPerUnit)) {
                QStringList hashes;
                for (const data::ShardRef& ref : shards) hashes << ref.hash;
                cut.next.push_back(std::move(hashes));
            }
    }
    const auto place = cut.placeOfFirstShard.constFind(unit.shardHashes.front());
    if (place == cut.placeOfFirstShard.constEnd() || *place >= static_cast<int>(cut.next.size())) return {};
    return cut.next[static_cast<std::size_t>(*place)];
}

}  // namespace raven::coordinator
