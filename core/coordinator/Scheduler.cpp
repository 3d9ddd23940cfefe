#include "coordinator/Scheduler.h"

#include <algorithm>
#include <cmath>

namespace raven::coordinator {

namespace {
constexpr int kMaxWaitingCounted = 4096;
}

Scheduler::Scheduler(ledger::CoordinatorStore& store, ledger::LeaseBook& leases) : store_(store), leases_(leases) {}

Scheduler::Grant Scheduler::lease(const Worker& worker, int maxUnits, const std::vector<JobSlot>& jobs,
                                  double totalGflops, const QDateTime& deadline, const QDateTime& now,
                                  const QDateTime& speculateIfDeadlineBefore) {
    Grant grant;
    const auto held = static_cast<int>(leases_.activeLeases(worker.id).size());
    int room = std::max(0, maxUnits);
    if (worker.maxConcurrentLeases > 0) room = std::min(room, worker.maxConcurrentLeases - held);
    if (room <= 0) return grant;

    int waiting = 0;
    for (const JobSlot& slot : jobs) waiting += static_cast<int>(leases_.issuable(slot.job, kMaxWaitingCounted).size());
    const double share =
        static_cast<double>(waiting) * weightOf(worker.gflops) / std::max(totalGflops, weightOf(worker.gflops));
    int wanted = std::clamp(static_cast<int>(std::ceil(share - 1e-9)), 1, room);

    for (const JobSlot& slot : jobs) {
        if (wanted <= 0) break;
        bool stop = false;
        for (const ledger::WorkUnitId id : leases_.issuable(slot.job, wanted)) {
            const ledger::LeaseOutcome outcome = leases_.lease(id, worker.id, deadline, now);
            if (outcome == ledger::LeaseOutcome::Granted || outcome == ledger::LeaseOutcome::Extended) {
                grant.units << *store_.workUnit(id);
                --wanted;
            } else if (outcome == ledger::LeaseOutcome::OutOfBudget) {
                grant.outOfBudget << slot.job;
                stop = true;
            } else if (outcome == ledger::LeaseOutcome::JobNotLeasable) {
                stop = true;
            }
            if (stop || wanted <= 0) break;
        }
    }
    if (!grant.units.isEmpty() || held > 0) return grant;

    // Nothing waits and this worker is idle: duplicate the oldest straggler of the first job that has one.
    for (const JobSlot& slot : jobs) {
        for (const ledger::WorkUnit& unit : store_.workUnits(slot.job, slot.version, ledger::WorkUnitState::Leased)) {
            if (speculated_.count({slot.job, unit.id}) || unit.leaseHolder == worker.id) continue;
            if (!speculateIfDeadlineBefore.isValid() || unit.leaseDeadline >= speculateIfDeadlineBefore) continue;
            const ledger::LeaseOutcome outcome =
                leases_.lease(unit.id, worker.id, deadline, now, ledger::LeaseMode::Speculative);
            if (outcome == ledger::LeaseOutcome::Granted) {
                speculated_.insert({slot.job, unit.id});
                grant.units << *store_.workUnit(unit.id);
                grant.speculative << unit.id;
                return grant;
            }
            if (outcome == ledger::LeaseOutcome::OutOfBudget) {
                grant.outOfBudget << slot.job;
                break;
            }
        }
    }
    return grant;
}

void Scheduler::forgetJob(ledger::JobId job) {
    for (auto it = speculated_.begin(); it != speculated_.end();)
        it = it->first == job ? speculated_.erase(it) : std::next(it);
}

}  // namespace raven::coordinator
