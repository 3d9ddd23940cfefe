#include "coordinator/ResultJudge.h"

#include "coordinator/WireIds.h"
#include "protocol/BoundedText.h"
#include "protocol/WireKernelMode.h"

namespace raven::coordinator {

ResultJudge::ResultJudge(ledger::CoordinatorStore& store, ledger::LeaseBook& leases, FailJob failJob)
    : store_(store), leases_(leases), failJob_(std::move(failJob)) {}

wire::ResultAck ResultJudge::duplicate(ledger::WorkUnitId unit) {
    wire::ResultAck ack;
    ack.set_work_unit_id(idText(unit));
    ack.set_status(wire::RESULT_STATUS_DUPLICATE);
    ack.set_reason("another result for this work unit was counted first");
    return ack;
}

std::optional<wire::ResultAck> ResultJudge::beforeCommit(const CheckedResult& checked, const JobRunner* runner) {
    const ledger::WorkUnitId unitId = checked.unit;
    if (checked.malformed) return reject(checked.contributor, unitId, *checked.malformed, true);
    const std::optional<ledger::WorkUnit> unit = store_.workUnit(unitId);
    if (!unit)
        return reject(checked.contributor, unitId, QStringLiteral("there is no work unit %1").arg(unitId), false);
    if (unit->state == ledger::WorkUnitState::Done) return duplicate(unitId);
    if (!runner) return reject(checked.contributor, unitId, QStringLiteral("job %1 has ended").arg(unit->job), false);
    if (!runner->takesResultsOf(unit->modelVersion))
        return reject(checked.contributor, unitId,
                      QStringLiteral("the unit is for model version %1 but job %2 is at version %3")
                          .arg(unit->modelVersion)
                          .arg(unit->job)
                          .arg(runner->version()),
                      false);
    // A result computed with other kernels than the job's cannot be verified (verifiable jobs) or was
    // computed by a worker that ignored the unit; an older worker sends fast (proto3's default).
    if (checked.result.kernelMode != protocol::wireKernelMode(runner->config().kernelMode))
        return reject(checked.contributor, unitId,
                      QStringLiteral("the result was computed with %1 kernels but job %2 asks for %3 kernels; "
                                     "update raven-worker")
                          .arg(checked.result.kernelMode == wire::KERNEL_MODE_VERIFIABLE ? "verifiable" : "fast")
                          .arg(unit->job)
                          .arg(QLatin1String(kernelModeName(runner->config().kernelMode).data())),
                      false);
    // A verifiable or spot-checked job's doubtful result is replayed instead of refused on a heuristic:
    // the replay decides, and a cheater is quarantined (Engine::verifyResult).
    if (!runner->config().replaysResults())
        if (const std::optional<QString> why = implausible(checked, *runner, *unit))
            return reject(checked.contributor, unitId, *why, true);
    return std::nullopt;
}

std::optional<QString> ResultJudge::implausible(const CheckedResult& checked, const JobRunner& runner,
                                                const ledger::WorkUnit& unit) {
    const std::int64_t samples = runner.samplesOf(unit.shardHashes);
    return plausibility_[unit.job].judge(checked.facts, static_cast<std::uint64_t>(samples),
                                         static_cast<std::uint64_t>(runner.predictionsPerSample()));
}

wire::ResultAck ResultJudge::afterAcceptance(const CheckedResult& checked, const ledger::AcceptResult& accepted) {
    const ledger::WorkUnitId unitId = checked.unit;
    switch (accepted.outcome) {
        case ledger::AcceptOutcome::Accepted: {
            plausibility_[checked.job].learn(checked.facts);
            wire::ResultAck ack;
            ack.set_work_unit_id(idText(unitId));
            ack.set_status(wire::RESULT_STATUS_ACCEPTED);
            ack.set_credited_micro_credits(accepted.paid);
            return ack;
        }
        case ledger::AcceptOutcome::Duplicate:  // not reached: GroupCommit holds one result per unit
            return duplicate(unitId);
        case ledger::AcceptOutcome::NotLeased:
            return reject(
                checked.contributor, unitId,
                QStringLiteral("you hold no lease on work unit %1 (handed back, or never leased)").arg(unitId), false);
        case ledger::AcceptOutcome::OutOfBudget:
            return reject(checked.contributor, unitId, QStringLiteral("job %1 is out of budget").arg(checked.job),
                          false);
        case ledger::AcceptOutcome::JobEnded:
            return reject(checked.contributor, unitId, QStringLiteral("job %1 has ended").arg(checked.job), false);
    }
    return duplicate(unitId);
}

wire::ResultAck ResultJudge::reject(ledger::ContributorId contributor, ledger::WorkUnitId unitId, const QString& reason,
                                    bool countAgainst, bool replayMismatch) {
    if (countAgainst) {
        if (const std::optional<ledger::WorkUnit> unit = store_.workUnit(unitId)) {
            leases_.rejectResult(unitId, contributor, reason, utcNow(), replayMismatch);
            // When many different contributors all fail the same unit, the unit (the job) is at fault,
            // not they: the job fails with the reason instead of re-issuing the unit forever and
            // keeping workers from every other job.
            noteUnitFailure(*unit, contributor, QStringLiteral("rejected for"), reason);
        }
    }
    wire::ResultAck ack;
    ack.set_work_unit_id(idText(unitId));
    ack.set_status(wire::RESULT_STATUS_REJECTED);
    ack.set_reason(protocol::boundText(reason).toStdString());
    return ack;
}

void ResultJudge::noteUnitFailure(const ledger::WorkUnit& unit, ledger::ContributorId contributor, const QString& how,
                                  const QString& reason) {
    std::set<ledger::ContributorId>& failedBy = failedBy_[unit.id];
    failedBy.insert(contributor);
    if (static_cast<int>(failedBy.size()) < kRejectionsBeforeJobFails) return;
    failedBy_.erase(unit.id);
    failJob_(unit.job,
             QStringLiteral("work unit %1 was %2 %3 different contributors (last: %4); the job cannot proceed")
                 .arg(unit.id)
                 .arg(how)
                 .arg(kRejectionsBeforeJobFails)
                 .arg(protocol::boundText(reason)));
}

void ResultJudge::stepApplied(const QList<ledger::WorkUnit>& units) {
    for (const ledger::WorkUnit& unit : units) failedBy_.erase(unit.id);
}

}  // namespace raven::coordinator
