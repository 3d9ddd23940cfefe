#pragma once
// ResultVerifier: the results of verifiable jobs and of spot-checked fast jobs, replayed by the
// coordinator before they are accepted (docs/verification.md).
//
//   ResultVerifier verifier(settings, secretSeed, library.shards());
//   if (verifier.quarantined(contributor)) refuse;                  // no work, no results
//   if (!verifier.needsReplay(checked, unit, doubtful)) accept;      // not sampled: counts unchecked
//   ReplayInput input = ReplayInput::of(runner, unit);               // on the event loop
//   ReplayReport report = verifier.replay(input, checked.result);    // on the pool (ReplayQueue)
//   switch (verifier.conclude(checked, unit, report).verdict) {      // on the event loop, before GroupCommit
//       case Matched:    accept;                                     // paid, summed into the step
//       case Caught:     reject against the sender;                  // quarantined now
//       case Undecided:  reject, not against the sender;             // the unit is computed again
//   }
//
// (check() does the three in a row on the calling thread.) Only needsReplay() and conclude() touch
// the policy and the figures: they run on the event loop; replay() only computes.
// VerificationPolicy decides which results are replayed (every one of a new contributor's, then
// fewer, never below the floor); a result ResultPlausibility doubts (a zero gradient, an outlying
// norm) is replayed too, instead of being refused on the heuristic. A replay is UnitReplay, the honest worker's
// computation; the two are compared by ResultComparison: bit for bit in a verifiable job, within a tolerance in a fast
// one. A mismatch is settled by a third computation, a second replay on a fresh model: when it equals the first, the
// contributor is caught; when the coordinator's own two replays differ (its fault, not the contributor's), nobody is
// accused and the result is refused without counting against its sender.
//
// Results are checked before they are accepted, so a caught result is never paid nor summed into
// the model, and every result of a contributor on probation is checked before it counts. What a
// trusted contributor returns unsampled counts unchecked: the residual risk docs/verification.md
// quantifies.
#include <QString>

#include <cstdint>
#include <deque>
#include <map>

#include "coordinator/JobRunner.h"
#include "coordinator/ResultIngest.h"
#include "coordinator/UnitReplay.h"
#include "coordinator/VerificationPolicy.h"
#include "ledger/TrustBook.h"

namespace raven::coordinator {

// One job's verification, for its metrics and docs/benchmarks.md.
struct VerificationStats {
    std::int64_t results = 0;    // results judged (of verifiable and spot-checked jobs)
    std::int64_t replayed = 0;   // of which replayed
    std::int64_t caught = 0;     // of which did not match
    double usefulFlops = 0.0;    // the work of the results judged
    double replayedFlops = 0.0;  // the coordinator's own replays (a mismatch costs two)
    double replaySeconds = 0.0;  // the replays' wall time on the coordinator
    // The same ratio over the last kRecentResults results only: the steady state once trust has grown.
    double recentOverhead = 0.0;
    static constexpr std::size_t kRecentResults = 200;
    double overhead() const { return usefulFlops > 0 ? replayedFlops / usefulFlops : 0.0; }
};

class ResultVerifier {
public:
    enum class Verdict {
        NotSampled,  // not replayed this time: counts unchecked
        Matched,     // replayed, equal: counts, and the contributor's trust grows
        Caught,      // replayed twice, both differ from it: the contributor is quarantined
        Undecided,   // the coordinator's two replays disagree: nobody accused, computed again
    };
    struct Outcome {
        Verdict verdict = Verdict::NotSampled;
        QString why;  // for Caught and Undecided: what differed, for people and the logs
    };

    // What the replays found (computed off the event loop).
    struct ReplayReport {
        QString difference;               // empty: the contributor's result equals the replay
        bool ownReplaysDisagree = false;  // the third computation differed from the first
        int computations = 0;             // replays done (a mismatch costs two)
        double seconds = 0.0;
        QString failure;  // the replay itself failed (raven::Error): nobody is accused
    };

    // `book`: where trust and quarantine are kept across restarts (read now, written as they change);
    // nullptr: in memory only.
    ResultVerifier(VerificationSettings settings, std::uint64_t seed, const data::ShardStore& shards,
                   ledger::TrustBook* book = nullptr);

    // `unit`: the result's unit, of `runner`'s job at its current version. Only for results of jobs
    // that replay results (JobConfig::replaysResults).
    // `doubtful` (ResultPlausibility found it unbelievable): replayed whatever the draw says.
    Outcome check(const CheckedResult& checked, const JobRunner& runner, const ledger::WorkUnit& unit,
                  bool doubtful = false);

    // The result is counted; true when it must be replayed before it is accepted (on the event loop).
    bool needsReplay(const CheckedResult& checked, const ledger::WorkUnit& unit, bool doubtful);
    // The replay and, on a mismatch, the third computation; any thread, one at a time.
    ReplayReport replay(const ReplayInput& input, const protocol::WorkResult& theirs);
    // The verdict of a replayed result: trust, quarantine and figures (on the event loop).
    Outcome conclude(const CheckedResult& checked, const ledger::WorkUnit& unit, const ReplayReport& report);

    bool quarantined(ledger::ContributorId contributor) const { return policy_.quarantined(contributor); }
    // Quarantines a contributor on evidence other than a replay (OutlierStrikes: the outliers it sent
    // to fast-mode jobs), kept as a caught one's is.
    void quarantine(ledger::ContributorId contributor, const QString& why);
    const VerificationPolicy& policy() const { return policy_; }
    VerificationStats stats(ledger::JobId job) const;
    // Results of the contributor judged before it was caught, the caught one included (the
    // detection latency in units); 0 when it was not caught.
    std::int64_t caughtAfter(ledger::ContributorId contributor) const;
    void forgetJob(ledger::JobId job) { replay_.forgetJob(job); }
    const UnitReplay& unitReplay() const { return replay_; }

private:
    void noteRecent(ledger::JobId job, double usefulFlops, double replayedFlops);

    VerificationPolicy policy_;
    ledger::TrustBook* book_;
    UnitReplay replay_;
    std::map<ledger::JobId, VerificationStats> stats_;
    std::map<ledger::JobId, std::deque<std::pair<double, double>>> recent_;  // (useful, replayed) FLOPs
    std::map<ledger::ContributorId, std::int64_t> judged_;                   // results judged, per contributor
    std::map<ledger::ContributorId, std::int64_t> caughtAfter_;              // judged_ when caught
    // judged_ when a replayed result arrived, until its verdict (results are judged out of order).
    std::map<std::pair<ledger::ContributorId, ledger::WorkUnitId>, std::int64_t> ordinals_;
};

}  // namespace raven::coordinator
