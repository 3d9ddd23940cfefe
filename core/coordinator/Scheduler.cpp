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
    int held = 0, letOff = 0;
    for (const ledger::ActiveLease& lease : leases_.activeLeases(worker.id)) {
        if (worker.handedIn.count(lease.workUnit) && letOff < worker.handedInLetOff)
            ++letOff;
        else
            ++held;
    }
    int room = std::max(0, maxUnits);
    if (worker.maxConcurrentLeases > 0) room = std::min(room, worker.maxConcurrentLeases - held);
    if (room <= 0) return grant;

    forgetEndedJobs(jobs);
    std::map<ledger::JobId, QList<ledger::WorkUnitId>> issuable;
    int waiting = 0;
    for (const JobSlot& slot : jobs) {
        QList<ledger::WorkUnitId>& ids = issuable[slot.job];
        ids = leases_.issuable(slot.job, kMaxWaitingCounted);
        waiting += static_cast<int>(ids.size());
    }
    const double share =
        static_cast<double>(waiting) * weightOf(worker.gflops) / std::max(totalGflops, weightOf(worker.gflops));
    // Rounded to the nearest, not up: where a step has about as many units as workers (a round of
    // local-steps lanes), rounding up gave every worker a little faster than the mean two units and
    // left the last to ask with none, so the round waited for a second unit computed after the first.
    int wanted = std::clamp(static_cast<int>(std::lround(share)), 1, room);

    for (const JobSlot& slot : jobs) {
        if (wanted <= 0) break;
        bool stop = false;
        for (const ledger::WorkUnitId id : inPlaceOrder(slot, worker.id, issuable[slot.job])) {
            const ledger::LeaseOutcome outcome = leases_.lease(id, worker.id, deadline, now);
            if (outcome == ledger::LeaseOutcome::Granted || outcome == ledger::LeaseOutcome::Extended) {
                grant.units << *store_.workUnit(id);
                if (const int place = placeOf(slot, id); place >= 0) {
                    places_[slot.job].holder[place] = worker.id;
                    places_[slot.job].leasedThisStep.insert(place);
                }
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

bool Scheduler::knowsStep(const JobSlot& slot) {
    Places& places = places_[slot.job];
    if (places.version == slot.version) return true;
    const QList<ledger::WorkUnit> step = store_.workUnits(slot.job, slot.version);
    if (step.isEmpty()) return false;  // looked up again once the step's units exist
    places.version = slot.version;
    places.firstUnit = step.front().id;
    places.leasedThisStep.clear();
    return true;
}

int Scheduler::placeOf(const JobSlot& slot, ledger::WorkUnitId unit) {
    if (!knowsStep(slot)) return -1;
    const ledger::WorkUnitId place = unit - places_[slot.job].firstUnit;
    // An id outside the step's run (a unit of an older step still waiting) has no place here.
    return place >= 0 && place < kMaxWaitingCounted ? static_cast<int>(place) : -1;
}

ledger::ContributorId Scheduler::holderOfPlace(ledger::JobId job, int place) const {
    const auto places = places_.find(job);
    if (places == places_.end()) return 0;
    const auto holder = places->second.holder.find(place);
    return holder == places->second.holder.end() ? 0 : holder->second;
}

QList<ledger::WorkUnitId> Scheduler::inPlaceOrder(const JobSlot& slot, ledger::ContributorId worker,
                                                  const QList<ledger::WorkUnitId>& waiting) {
    if (!knowsStep(slot)) return waiting;
    // 0: this worker's place, 1: re-issued (late: the step waits for it), 2: nobody's yet, 3: another
    // worker's; in id order within each.
    std::vector<std::pair<int, ledger::WorkUnitId>> ranked;
    ranked.reserve(static_cast<std::size_t>(waiting.size()));
    for (const ledger::WorkUnitId id : waiting) {
        const int place = placeOf(slot, id);
        const ledger::ContributorId holder = place >= 0 ? holderOfPlace(slot.job, place) : 0;
        const bool reissued = place >= 0 && places_[slot.job].leasedThisStep.count(place) > 0;
        ranked.emplace_back(holder == worker ? 0 : reissued ? 1 : holder == 0 ? 2 : 3, id);
    }
    std::sort(ranked.begin(), ranked.end());
    QList<ledger::WorkUnitId> ordered;
    ordered.reserve(static_cast<qsizetype>(ranked.size()));
    for (const auto& [rank, id] : ranked) ordered << id;
    return ordered;
}

void Scheduler::forgetEndedJobs(const std::vector<JobSlot>& running) {
    // Places outlive a step (forgetJob() is called at every step) but not their job.
    if (places_.size() <= running.size()) return;
    for (auto it = places_.begin(); it != places_.end();) {
        const bool runs =
            std::any_of(running.begin(), running.end(), [&](const JobSlot& slot) { return slot.job == it->first; });
        it = runs ? std::next(it) : places_.erase(it);
    }
}

void Scheduler::forgetJob(ledger::JobId job) {
    for (auto it = speculated_.begin(); it != speculated_.end();)
        it = it->first == job ? speculated_.erase(it) : std::next(it);
}

}  // namespace raven::coordinator
