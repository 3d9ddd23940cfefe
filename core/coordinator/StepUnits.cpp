#include "coordinator/StepUnits.h"

namespace raven::coordinator {

const QList<ledger::WorkUnit>& StepUnits::of(ledger::JobId job, qint64 version, const Read& read) {
    if (auto known = steps_.find(job); known != steps_.end() && known->second.version == version)
        return known->second.units;
    Step step;
    step.version = version;
    step.units = read();
    for (qsizetype i = 0; i < step.units.size(); ++i) {
        step.index.insert(step.units[i].id, i);
        if (step.units[i].state != ledger::WorkUnitState::Done) ++step.undone;
    }
    if (step.units.isEmpty()) {
        steps_.erase(job);
        static const QList<ledger::WorkUnit> none;
        return none;
    }
    return (steps_[job] = std::move(step)).units;
}

void StepUnits::done(ledger::JobId job, ledger::WorkUnitId unit, ledger::ContributorId contributor,
                     const QDateTime& at) {
    const auto known = steps_.find(job);
    if (known == steps_.end()) return;
    Step& step = known->second;
    const auto place = step.index.constFind(unit);
    if (place == step.index.constEnd()) return;
    ledger::WorkUnit& u = step.units[*place];
    if (u.state == ledger::WorkUnitState::Done) return;
    u.state = ledger::WorkUnitState::Done;
    u.acceptedAt = at;
    u.acceptedFrom = contributor;
    --step.undone;
}

qsizetype StepUnits::undone(ledger::JobId job) const {
    const auto known = steps_.find(job);
    return known == steps_.end() ? 0 : known->second.undone;
}

}  // namespace raven::coordinator
