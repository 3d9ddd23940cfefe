#pragma once
// OutlierStrikes: when a contributor to fast-mode jobs has sent too many outliers to be honest.
// Fast results cannot be replayed bit for bit, so robust aggregation (RobustAggregation.h) is the
// only witness: it names a unit an outlier when it lies several times farther from the step's
// centre than the median unit. One outlier proves little (a unit of unusually hard samples could
// be one); several among a contributor's last units do: in the measured runs
// (bench/verification/robust.sh, docs/benchmarks.md) no honest unit was ever named, while a worker
// sending -10x its gradient had about four of every five units named.
//
//   OutlierStrikes strikes;                              // 3 outliers among the last 10 judged units
//   for (each unit of a robust step, in id order)
//       if (strikes.judged(unit.contributor, unit.outlier)) quarantine(unit.contributor);
//
// Counted in memory: a restarted coordinator starts every contributor afresh (a quarantine itself
// is kept, in the TrustBook).
#include <deque>
#include <map>

#include "ledger/StoreTypes.h"

namespace raven::coordinator {

class OutlierStrikes {
public:
    struct Settings {
        int strikes = 3;  // outliers among the last `window` judged units that end a contributor's trust
        int window = 10;
    };
    OutlierStrikes() : OutlierStrikes(Settings{}) {}
    explicit OutlierStrikes(Settings settings);

    // One more judged unit of `contributor`. True exactly once: when its last `window` units first
    // hold `strikes` outliers (the caller quarantines it; later units of it are not counted).
    bool judged(ledger::ContributorId contributor, bool outlier);
    // Outliers among its last `window` judged units.
    int strikes(ledger::ContributorId contributor) const;
    const Settings& settings() const { return settings_; }

private:
    Settings settings_;
    std::map<ledger::ContributorId, std::deque<bool>> recent_;  // newest last, at most `window`
    std::map<ledger::ContributorId, bool> struckOut_;
};

}  // namespace raven::coordinator
