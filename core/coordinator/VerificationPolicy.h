#pragma once
// VerificationPolicy: which results of a verifiable job are replayed, per contributor, as BOINC's
// adaptive replication: a new contributor is checked on every unit, a trusted one rarely, never
// below a floor; trust grows with each verified unit and a mismatch ends it (quarantine).
//
//   VerificationPolicy policy({.probationUnits = 10, .floorRate = 0.05, .halvingUnits = 5}, secretSeed);
//   if (policy.shouldVerify(contributor, unit)) {           // replay it (ResultVerifier)
//       if (digestsEqual) policy.verified(contributor);     // trust grows
//       else policy.caught(contributor);                    // quarantined: no more work, results refused
//   }
//
// The rate of a contributor with v verified units (and no mismatch):
//   v < probationUnits:  1 (every unit)
//   otherwise:           max(floorRate, 0.5 ^ ((v - probationUnits) / halvingUnits))
// so the share of replayed work halves with every halvingUnits units verified after probation: with
// the defaults 50% at 15 verified units, 12.5% at 25, the 5% floor from 32 on, which a contributor
// reaches after about 150 units. (A 1/v decay, tried first, needed thousands of units: trust grows
// only with the units that are replayed, and those get rarer as it grows.) Whether a given unit is replayed is a keyed
// hash of (seed, unit) below the rate: the same answer every time it is asked (a restart with the
// same seed decides the same), and unpredictable to a contributor, which does not know the seed.
// A quarantined contributor stays so: trust is earned once per identity, and a cheater must start
// over under a new one, on probation again.
#include <cstdint>
#include <map>

#include "ledger/StoreTypes.h"

namespace raven::coordinator {

struct VerificationSettings {
    int probationUnits = 10;  // units replayed, all of them, before sampling begins
    double floorRate = 0.05;  // the least share of a trusted contributor's units that is replayed
    int halvingUnits = 5;     // verified units after probation that halve the rate
    // How much replay work there may be (ReplayQueue.h): replays running at once on the
    // coordinator's pool, results of one contributor waiting behind its running replay (more are
    // refused), and the decoded shards the replays keep (ShardSampleCache.h).
    int replaySlots = 1;
    int replaysWaitingPerContributor = 2;
    std::int64_t replayShardCacheBytes = 256ll << 20;
};

// What the policy knows of one contributor.
struct ContributorTrust {
    std::int64_t verified = 0;  // its results that matched their replay
    bool quarantined = false;   // a result of its did not match: no more work, results refused
};

class VerificationPolicy {
public:
    // raven::Error for probationUnits < 0, a floor outside (0, 1] or halvingUnits < 1.
    VerificationPolicy(VerificationSettings settings, std::uint64_t seed);

    // The share of this contributor's units replayed now (1 on probation; 0 once quarantined: its
    // results are refused, not replayed).
    double rateFor(ledger::ContributorId contributor) const;
    bool shouldVerify(ledger::ContributorId contributor, ledger::WorkUnitId unit) const;
    void verified(ledger::ContributorId contributor);
    void caught(ledger::ContributorId contributor);
    bool quarantined(ledger::ContributorId contributor) const;
    ContributorTrust trust(ledger::ContributorId contributor) const;
    // What a previous run learnt (ledger::TrustBook), at start-up.
    void restore(ledger::ContributorId contributor, ContributorTrust trust) { trust_[contributor] = trust; }
    const VerificationSettings& settings() const { return settings_; }

    // The number in [0, 1) that decides whether `unit` is replayed (below the rate: yes).
    double drawFor(ledger::WorkUnitId unit) const;

private:
    VerificationSettings settings_;
    std::uint64_t seed_;
    std::map<ledger::ContributorId, ContributorTrust> trust_;
};

}  // namespace raven::coordinator
