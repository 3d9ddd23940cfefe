#pragma once
// ResultJudge: whether a checked result is counted, and the answer its worker gets.
//
//   ResultJudge judge(store, leases, [&](JobId job, QString why) { failJob(job, why); });
//   if (auto ack = judge.beforeCommit(checked, runner)) answer(*ack);      // duplicate or rejected
//   else groupCommit.add(...);                                              // durable, then:
//   wire::ResultAck ack = judge.afterAcceptance(checked, leases.acceptResult(...));
//
// Before a result is made durable: a unit already done is a DUPLICATE; a unit of an ended job or of
// another model version is REJECTED (not the sender's fault), and so is one computed with other
// kernels than the job's (KernelMode: an older worker); a result that ResultPlausibility finds
// unbelievable for its fast job, or that could not be decoded, is REJECTED and counted against the
// sender (LeaseBook::rejectResult). In a job that replays results (verifiable or spot-checked) an
// unbelievable result is replayed instead
// (ResultVerifier), which decides. A unit that kRejectionsBeforeJobFails different contributors failed
// (rejected results, or "could not compute" hand-backs) fails its job: the unit is at fault, not they.
// After the store's transaction the outcome becomes the answer; an accepted result joins its job's
// plausibility reference. The judge holds no files and sends nothing: Engine does both.
#include <QString>

#include <functional>
#include <map>
#include <optional>
#include <set>

#include "coordinator/JobRunner.h"
#include "coordinator/ResultIngest.h"
#include "coordinator/ResultPlausibility.h"
#include "ledger/LeaseBook.h"
#include "protocol/raven.pb.h"

namespace raven::coordinator {

class ResultJudge {
public:
    // Distinct contributors whose results for one unit were all rejected before the job is failed.
    static constexpr int kRejectionsBeforeJobFails = 8;
    using FailJob = std::function<void(ledger::JobId, const QString&)>;

    ResultJudge(ledger::CoordinatorStore& store, ledger::LeaseBook& leases, FailJob failJob);

    // nullopt: make it durable and accept it. `runner`: the unit's job's, nullptr when it ended.
    std::optional<wire::ResultAck> beforeCommit(const CheckedResult& checked, const JobRunner* runner);
    // The answer for the store's outcome of a durable result; learns from an accepted one.
    wire::ResultAck afterAcceptance(const CheckedResult& checked, const ledger::AcceptResult& accepted);
    // REJECTED with the reason; when `countAgainst`, recorded against the contributor (its lease ends),
    // as a replay mismatch when `replayMismatch` (no credit of the unit to it may then be confirmed).
    wire::ResultAck reject(ledger::ContributorId contributor, ledger::WorkUnitId unit, const QString& reason,
                           bool countAgainst, bool replayMismatch = false);
    static wire::ResultAck duplicate(ledger::WorkUnitId unit);
    // Why ResultPlausibility finds the result unbelievable for its unit; nullopt when it does not.
    // beforeCommit() refuses on it for fast jobs; a verifiable or spot-checked job's doubtful result is replayed.
    std::optional<QString> implausible(const CheckedResult& checked, const JobRunner& runner,
                                       const ledger::WorkUnit& unit);
    // A contributor failed the unit (`how`: "rejected for", "impossible to compute for").
    void noteUnitFailure(const ledger::WorkUnit& unit, ledger::ContributorId contributor, const QString& how,
                         const QString& reason);
    // A step was applied: its units' failures are forgotten.
    void stepApplied(const QList<ledger::WorkUnit>& units);
    void forgetJob(ledger::JobId job) { plausibility_.erase(job); }

private:
    ledger::CoordinatorStore& store_;
    ledger::LeaseBook& leases_;
    FailJob failJob_;
    std::map<ledger::JobId, ResultPlausibility> plausibility_;                // from each job's accepted results
    std::map<ledger::WorkUnitId, std::set<ledger::ContributorId>> failedBy_;  // who failed each unit
};

}  // namespace raven::coordinator
