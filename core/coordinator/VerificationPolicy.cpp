#include "coordinator/VerificationPolicy.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "base/Error.h"

namespace raven::coordinator {

namespace {

// SplitMix64's finalizer: a keyed, well-mixed 64-bit hash of (seed, unit).
std::uint64_t mix(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

}  // namespace

VerificationPolicy::VerificationPolicy(VerificationSettings settings, std::uint64_t seed)
    : settings_(settings), seed_(seed) {
    RAVEN_CHECK(settings_.probationUnits >= 0,
                "verification: probation of " + std::to_string(settings_.probationUnits) + " units",
                "give 0 or more units to replay before a contributor is sampled");
    RAVEN_CHECK(settings_.floorRate > 0.0 && settings_.floorRate <= 1.0,
                "verification: a floor rate of " + std::to_string(settings_.floorRate),
                "give a share in (0, 1], e.g. 0.05 to replay at least one unit in twenty");
    RAVEN_CHECK(settings_.halvingUnits >= 1,
                "verification: the rate halving every " + std::to_string(settings_.halvingUnits) + " units",
                "give 1 or more verified units per halving, e.g. 5");
}

double VerificationPolicy::rateFor(ledger::ContributorId contributor) const {
    const ContributorTrust t = trust(contributor);
    if (t.quarantined) return 0.0;
    if (t.verified < settings_.probationUnits) return 1.0;
    const double halvings =
        static_cast<double>(t.verified - settings_.probationUnits) / static_cast<double>(settings_.halvingUnits);
    return std::clamp(std::exp2(-halvings), settings_.floorRate, 1.0);
}

double VerificationPolicy::drawFor(ledger::WorkUnitId unit) const {
    // The top 53 bits as a double in [0, 1).
    return static_cast<double>(mix(seed_ ^ mix(static_cast<std::uint64_t>(unit))) >> 11) * 0x1.0p-53;
}

bool VerificationPolicy::shouldVerify(ledger::ContributorId contributor, ledger::WorkUnitId unit) const {
    return drawFor(unit) < rateFor(contributor);
}

void VerificationPolicy::verified(ledger::ContributorId contributor) {
    ContributorTrust& t = trust_[contributor];
    if (!t.quarantined) ++t.verified;
}

void VerificationPolicy::caught(ledger::ContributorId contributor) {
    ContributorTrust& t = trust_[contributor];
    t.quarantined = true;
    t.verified = 0;
}

bool VerificationPolicy::quarantined(ledger::ContributorId contributor) const {
    return trust(contributor).quarantined;
}

ContributorTrust VerificationPolicy::trust(ledger::ContributorId contributor) const {
    const auto it = trust_.find(contributor);
    return it == trust_.end() ? ContributorTrust{} : it->second;
}

}  // namespace raven::coordinator
