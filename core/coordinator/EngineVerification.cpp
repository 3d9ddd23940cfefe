// Verification: each result of a verifiable job is judged by the ResultVerifier before GroupCommit
// makes it durable, so a result that fails its replay is never paid nor summed into a step; the
// contributor that sent it is quarantined (docs/verification.md).
#include "coordinator/Engine.h"
#include "coordinator/WireIds.h"

namespace raven::coordinator {

std::optional<wire::ResultAck> Engine::verifyResult(const CheckedResult& checked, const JobRunner& r) {
    if (verifier_->quarantined(checked.contributor))
        return judge_->reject(checked.contributor, checked.unit,
                              QStringLiteral("you are quarantined: your results are discarded"), false);
    if (r.config().kernelMode != KernelMode::Verifiable) return std::nullopt;
    const std::optional<ledger::WorkUnit> unit = store_->workUnit(checked.unit);
    if (!unit) return std::nullopt;  // ResultJudge::beforeCommit answered already
    const bool doubtful = judge_->implausible(checked, r, *unit).has_value();
    const ResultVerifier::Outcome outcome = verifier_->check(checked, r, *unit, doubtful);
    switch (outcome.verdict) {
        case ResultVerifier::Verdict::NotSampled:
        case ResultVerifier::Verdict::Matched:
            return std::nullopt;
        case ResultVerifier::Verdict::Undecided:
            qWarning("coordinator: %s; the unit is computed again", qPrintable(outcome.why));
            return judge_->reject(checked.contributor, checked.unit, outcome.why, false);
        case ResultVerifier::Verdict::Caught: {
            // Rejected against the sender first (its lease of this unit ends and the unit is
            // re-issued), then no more work for it anywhere.
            wire::ResultAck ack = judge_->reject(checked.contributor, checked.unit, outcome.why, true);
            quarantine(checked.contributor, outcome.why);
            metrics_->event(checked.job, wire::JOB_EVENT_KIND_WORK_REISSUED,
                            QStringLiteral("%1 quarantined: %2").arg(contributorLabel(checked.contributor), outcome.why));
            return ack;
        }
    }
    return std::nullopt;
}

void Engine::quarantine(ledger::ContributorId contributor, const QString& why) {
    qWarning("coordinator: %s quarantined after %lld result(s): %s", qPrintable(contributorLabel(contributor)),
             static_cast<long long>(verifier_->caughtAfter(contributor)), qPrintable(why));
    const QList<ledger::ActiveLease> held = leases_->activeLeases(contributor);
    if (held.isEmpty()) return;
    leases_->handBackAll(contributor, utcNow());
    workersLeft(held, QStringLiteral("quarantined"));
}

void Engine::endVerification(ledger::JobId job) {
    const VerificationStats s = verifier_->stats(job);
    if (s.results > 0)
        qInfo("coordinator: verification of job %lld: %lld results, %lld replayed, %lld caught; replayed / useful "
              "compute %.3f (%.3f over the last %zu results); replays took %.2f s",
              static_cast<long long>(job), static_cast<long long>(s.results), static_cast<long long>(s.replayed),
              static_cast<long long>(s.caught), s.overhead(), s.recentOverhead, VerificationStats::kRecentResults,
              s.replaySeconds);
    verifier_->forgetJob(job);
}

}  // namespace raven::coordinator
