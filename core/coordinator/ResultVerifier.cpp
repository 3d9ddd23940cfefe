#include "coordinator/ResultVerifier.h"

#include <QElapsedTimer>

#include "coordinator/ResultComparison.h"

namespace raven::coordinator {

ResultVerifier::ResultVerifier(VerificationSettings settings, std::uint64_t seed, const data::ShardStore& shards,
                               ledger::TrustBook* book)
    : policy_(settings, seed), book_(book), replay_(shards, 1, settings.replayShardCacheBytes) {
    if (!book_) return;
    for (const ledger::StoredTrust& t : book_->all())
        policy_.restore(t.contributor, ContributorTrust{t.quarantined() ? 0 : t.verified, t.quarantined()});
}

ResultVerifier::Outcome ResultVerifier::check(const CheckedResult& checked, const JobRunner& runner,
                                              const ledger::WorkUnit& unit, bool doubtful) {
    if (!needsReplay(checked, unit, doubtful)) return {};
    return conclude(checked, unit, replay(ReplayInput::of(runner, unit), checked.result));
}

bool ResultVerifier::needsReplay(const CheckedResult& checked, const ledger::WorkUnit& unit, bool doubtful) {
    VerificationStats& stats = stats_[unit.job];
    ++stats.results;
    stats.usefulFlops += static_cast<double>(unit.flops);
    const std::int64_t judged = ++judged_[checked.contributor];
    if (doubtful || policy_.shouldVerify(checked.contributor, unit.id)) {
        ordinals_[{checked.contributor, unit.id}] = judged;
        return true;
    }
    noteRecent(unit.job, static_cast<double>(unit.flops), 0.0);
    return false;
}

ResultVerifier::ReplayReport ResultVerifier::replay(const ReplayInput& input, const protocol::WorkResult& theirs) {
    ReplayReport report;
    QElapsedTimer clock;
    clock.start();
    try {
        report.computations = 1;
        const protocol::WorkResult mine = replay_.compute(input);
        report.difference = resultDifference(input.kernelMode, ComparedResult::of(theirs), ComparedResult::of(mine),
                                             predictionsPerSample(input.manifest));
        if (!report.difference.isEmpty()) {
            // The third computation: the coordinator's replay once more, on a fresh model, before
            // anyone is accused (a fault of the coordinator's own must not cost an honest
            // contributor its standing).
            report.computations = 2;
            const protocol::WorkResult again = replay_.compute(input, true);
            report.ownReplaysDisagree =
                !resultDifference(input.kernelMode, ComparedResult::of(mine), ComparedResult::of(again),
                                  predictionsPerSample(input.manifest))
                     .isEmpty();
        }
    } catch (const std::exception& e) {
        report.failure = QString::fromUtf8(e.what());
    }
    report.seconds = static_cast<double>(clock.nsecsElapsed()) / 1e9;
    return report;
}

ResultVerifier::Outcome ResultVerifier::conclude(const CheckedResult& checked, const ledger::WorkUnit& unit,
                                                 const ReplayReport& report) {
    VerificationStats& stats = stats_[unit.job];
    ++stats.replayed;
    const double replayed = static_cast<double>(unit.flops) * report.computations;
    stats.replayedFlops += replayed;
    stats.replaySeconds += report.seconds;
    noteRecent(unit.job, static_cast<double>(unit.flops), replayed);
    const auto ordinal = ordinals_.find({checked.contributor, unit.id});
    const std::int64_t judged = ordinal == ordinals_.end() ? judged_[checked.contributor] : ordinal->second;
    if (ordinal != ordinals_.end()) ordinals_.erase(ordinal);
    if (!report.failure.isEmpty())
        return {Verdict::Undecided,
                QStringLiteral("the coordinator could not replay work unit %1: %2").arg(unit.id).arg(report.failure)};
    if (report.difference.isEmpty()) {
        policy_.verified(checked.contributor);
        if (book_) book_->recordVerified(checked.contributor, policy_.trust(checked.contributor).verified);
        return {Verdict::Matched, {}};
    }
    if (report.ownReplaysDisagree)
        return {Verdict::Undecided,
                QStringLiteral("the coordinator's own replays of work unit %1 disagree").arg(unit.id)};
    ++stats.caught;
    policy_.caught(checked.contributor);
    caughtAfter_[checked.contributor] = judged;
    const QString why = QStringLiteral("work unit %1 replayed: %2").arg(unit.id).arg(report.difference);
    if (book_) book_->recordQuarantine(checked.contributor, why, QDateTime::currentDateTimeUtc());
    return {Verdict::Caught, why};
}

void ResultVerifier::quarantine(ledger::ContributorId contributor, const QString& why) {
    if (policy_.quarantined(contributor)) return;
    policy_.caught(contributor);
    if (book_) book_->recordQuarantine(contributor, why, QDateTime::currentDateTimeUtc());
}

void ResultVerifier::noteRecent(ledger::JobId job, double useful, double replayed) {
    std::deque<std::pair<double, double>>& window = recent_[job];
    window.emplace_back(useful, replayed);
    while (window.size() > VerificationStats::kRecentResults) window.pop_front();
    double u = 0, r = 0;
    for (const auto& [a, b] : window) {
        u += a;
        r += b;
    }
    stats_[job].recentOverhead = u > 0 ? r / u : 0.0;
}

VerificationStats ResultVerifier::stats(ledger::JobId job) const {
    const auto it = stats_.find(job);
    return it == stats_.end() ? VerificationStats{} : it->second;
}

std::int64_t ResultVerifier::caughtAfter(ledger::ContributorId contributor) const {
    const auto it = caughtAfter_.find(contributor);
    return it == caughtAfter_.end() ? 0 : it->second;
}

}  // namespace raven::coordinator
