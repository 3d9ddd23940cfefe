// Verification: each result of a verifiable or spot-checked job is judged by the ResultVerifier before GroupCommit
// makes it durable, so a result that fails its replay is never paid nor summed into a step; the
// contributor that sent it is quarantined (docs/verification.md).
#include "base/Error.h"
#include "coordinator/Engine.h"
#include "coordinator/WireIds.h"
#include "protocol/Framing.h"

#include <QMetaObject>

namespace raven::coordinator {

std::optional<CheckedResult> Engine::verifyResult(CheckedResult checked, const JobRunner& r) {
    if (verifier_->quarantined(checked.contributor)) {
        answerResult(checked, judge_->reject(checked.contributor, checked.unit,
                                             QStringLiteral("you are quarantined: your results are discarded"), false));
        return std::nullopt;
    }
    if (!r.config().replaysResults()) return checked;
    const std::optional<ledger::WorkUnit> unit = store_->workUnit(checked.unit);
    if (!unit) return checked;  // ResultJudge::beforeCommit answered already
    const bool doubtful = judge_->implausible(checked, r, *unit).has_value();
    if (!verifier_->needsReplay(checked, *unit, doubtful)) return checked;
    const ledger::ContributorId who = checked.contributor;
    const std::size_t waiting = replays_->waiting(who);
    const protocol::ConnectionId connection = checked.connection;
    const std::uint64_t requestId = checked.requestId;
    if (replays_->add(PendingReplay{std::move(checked), *unit}) == ReplayQueue::Admission::Refused) {
        // Not against the sender: an honest worker that finished several units at once sends them
        // again once one is answered; a flood costs the coordinator no replay.
        wire::ResultAck ack = judge_->reject(
            who, unit->id,
            QStringLiteral("%1 of your results already wait for the coordinator to verify them; send this one again "
                           "when one of them is answered")
                .arg(waiting + 1),
            false);
        wire::Envelope out;
        *out.mutable_result_ack() = std::move(ack);
        answer(connection, requestId, std::move(out));
    }
    return std::nullopt;
}

void Engine::startReplay(PendingReplay pending) {
    const JobRunner* r = runner(pending.unit.job);
    std::optional<ReplayInput> input;
    QString failure;
    if (!verifier_->quarantined(pending.checked.contributor) && r) {
        try {
            input = ReplayInput::of(*r, pending.unit);
        } catch (const raven::Error& e) {
            failure = QString::fromStdString(e.message());
        }
    }
    if (!input) {
        // It waited while its sender was caught, its job ended or moved on: judged as it stands now,
        // without a replay (beforeCommit or the quarantine answers it).
        const CheckedResult checked = pending.checked;
        replays_->finished(checked.contributor, checked.unit);
        if (std::optional<wire::ResultAck> ack = judge_->beforeCommit(checked, r)) return answerResult(checked, *ack);
        answerResult(checked,
                     judge_->reject(checked.contributor, checked.unit,
                                    verifier_->quarantined(checked.contributor)
                                        ? QStringLiteral("you are quarantined: your results are discarded")
                                        : QStringLiteral("the coordinator could not replay it: %1").arg(failure),
                                    false));
        return;
    }
    auto work = std::make_shared<PendingReplay>(std::move(pending));
    auto in = std::make_shared<ReplayInput>(std::move(*input));
    ResultVerifier* verifier = verifier_.get();
    pool_.start([this, verifier, work, in]() mutable {
        auto report = std::make_shared<ResultVerifier::ReplayReport>(verifier->replay(*in, work->checked.result));
        in.reset();  // the weights' snapshot goes before the answer waits in the queue
        QMetaObject::invokeMethod(
            this, [this, work, report] { onReplayed(std::move(*work), *report); }, Qt::QueuedConnection);
    });
}

void Engine::onReplayed(PendingReplay pending, const ResultVerifier::ReplayReport& report) {
    CheckedResult& checked = pending.checked;
    try {
        const ResultVerifier::Outcome outcome = verifier_->conclude(checked, pending.unit, report);
        const JobRunner* r = runner(checked.job);
        switch (outcome.verdict) {
            case ResultVerifier::Verdict::NotSampled:
            case ResultVerifier::Verdict::Matched:
                // Verified equal: its credit is confirmed as it is paid (onBatchDurable).
                checked.replayMatched = outcome.verdict == ResultVerifier::Verdict::Matched;
                // The job may have moved on while the replay ran: judged again as it stands now.
                if (std::optional<wire::ResultAck> ack = judge_->beforeCommit(checked, r)) {
                    answerResult(checked, std::move(*ack));
                } else {
                    commit_->add({checked, r->files(), QString()});
                }
                break;
            case ResultVerifier::Verdict::Undecided:
                qWarning("coordinator: %s; the unit is computed again", qPrintable(outcome.why));
                answerResult(checked, judge_->reject(checked.contributor, checked.unit, outcome.why, false));
                break;
            case ResultVerifier::Verdict::Caught: {
                // Rejected against the sender first (its lease of this unit ends and the unit is
                // re-issued), then no more work for it anywhere.
                // This result is never paid; the credits still pending for its earlier ones are withheld.
                wire::ResultAck ack = judge_->reject(checked.contributor, checked.unit, outcome.why, true, true);
                const ledger::CreditSweep withheld = quarantine(checked.contributor, outcome.why);
                metrics_->event(checked.job, wire::JOB_EVENT_KIND_WORK_REISSUED,
                                QStringLiteral("%1 quarantined: %2; %3 pending credit(s) of %4 micro-credits withheld")
                                    .arg(contributorLabel(checked.contributor), outcome.why)
                                    .arg(withheld.credits)
                                    .arg(withheld.amount));
                answerResult(checked, std::move(ack));
                break;
            }
        }
    } catch (const std::exception& e) {
        qWarning("coordinator: concluding the replay of work unit %lld failed: %s",
                 static_cast<long long>(checked.unit), e.what());
        server_->send(checked.connection,
                      protocol::makeError(wire::ERROR_CODE_INTERNAL, QString::fromUtf8(e.what()),
                                          QStringLiteral("send the result again"), checked.requestId));
    }
    // Released after the verdict: a caught contributor's waiting results now meet its quarantine.
    replays_->finished(checked.contributor, checked.unit);
    judgeHeldBack();
    serveParkedLeases();
    retired_.clear();
}

ledger::CreditSweep Engine::quarantine(ledger::ContributorId contributor, const QString& why) {
    if (const std::int64_t after = verifier_->caughtAfter(contributor); after > 0)
        qWarning("coordinator: %s quarantined after %lld result(s): %s", qPrintable(contributorLabel(contributor)),
                 static_cast<long long>(after), qPrintable(why));
    else
        qWarning("coordinator: %s quarantined: %s", qPrintable(contributorLabel(contributor)), qPrintable(why));
    // Its results that no replay checked may have been summed into verifiable models: rewound out at
    // the next step (ModelRewind.h), noted on disk before their credits change.
    noteRewindsDue(contributor);
    // They are as suspect as the one caught: their credits go back to the jobs (docs/verification.md).
    const ledger::CreditSweep withheld =
        ledger_->revokePendingCredits(contributor, ledger::RevokeReason::Quarantined, utcNow());
    const QList<ledger::ActiveLease> held = leases_->activeLeases(contributor);
    if (held.isEmpty()) return withheld;
    leases_->handBackAll(contributor, utcNow());
    workersLeft(held, QStringLiteral("quarantined"));
    return withheld;
}

void Engine::endVerification(ledger::JobId job) {
    const VerificationStats s = verifier_->stats(job);
    if (s.results > 0)
        qInfo(
            "coordinator: verification of job %lld: %lld results, %lld replayed, %lld caught; replayed / useful "
            "compute %.3f (%.3f over the last %zu results); replays took %.2f s",
            static_cast<long long>(job), static_cast<long long>(s.results), static_cast<long long>(s.replayed),
            static_cast<long long>(s.caught), s.overhead(), s.recentOverhead, VerificationStats::kRecentResults,
            s.replaySeconds);
    verifier_->forgetJob(job);
}

}  // namespace raven::coordinator
