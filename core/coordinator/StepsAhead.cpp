#include "coordinator/StepsAhead.h"

#include <utility>

namespace raven::coordinator {

bool StepsAhead::computing(ledger::JobId job) const {
    const auto it = steps_.find(job);
    return it != steps_.end() && it->second.stage == Stage::Computing;
}

std::uint64_t StepsAhead::begin(ledger::JobId job, const JobRunner* runner, Origin origin,
                                std::shared_ptr<StepWork> work) {
    Step step;
    step.runner = runner;
    step.version = work->version;
    step.origin = origin;
    step.serial = nextSerial_++;
    step.work = std::move(work);
    if (auto [it, added] = steps_.try_emplace(job, std::move(step)); !added) {
        ++dropped_;  // a caller's slip; the newer one is the one whose result is being written
        it->second = std::move(step);
    }
    return steps_.at(job).serial;
}

void StepsAhead::computed(ledger::JobId job, std::uint64_t serial, std::optional<StepProduct> product) {
    const auto it = steps_.find(job);
    if (it == steps_.end() || it->second.serial != serial) return;
    it->second.stage = product ? Stage::Computed : Stage::Failed;
    it->second.product = std::move(product);
}

void StepsAhead::judged(ledger::JobId job, const Origin& result, bool accepted) {
    const auto it = steps_.find(job);
    if (it == steps_.end() || it->second.origin.unit != result.unit) return;
    if (accepted && it->second.origin == result) {
        it->second.accepted = true;
        return;
    }
    // Refused, not written, or another's result paid for the unit: the step is applied from that.
    steps_.erase(it);
    ++dropped_;
}

bool StepsAhead::ready(ledger::JobId job, const JobRunner* runner, qint64 version) const {
    const auto it = steps_.find(job);
    return it != steps_.end() && it->second.stage == Stage::Computed && it->second.accepted &&
           it->second.runner == runner && it->second.version == version;
}

std::optional<StepsAhead::Step> StepsAhead::take(ledger::JobId job, const JobRunner* runner, qint64 version) {
    const auto it = steps_.find(job);
    if (it == steps_.end()) return std::nullopt;
    if (!ready(job, runner, version)) {
        steps_.erase(it);
        ++dropped_;
        return std::nullopt;
    }
    Step step = std::move(it->second);
    steps_.erase(it);
    ++adopted_;
    return step;
}

}  // namespace raven::coordinator
