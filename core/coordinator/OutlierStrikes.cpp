#include "coordinator/OutlierStrikes.h"

#include <algorithm>
#include <string>

#include "base/Error.h"

namespace raven::coordinator {

OutlierStrikes::OutlierStrikes(Settings settings) : settings_(settings) {
    RAVEN_CHECK(settings_.strikes >= 1 && settings_.window >= settings_.strikes,
                "outlier strikes: " + std::to_string(settings_.strikes) + " of the last " +
                    std::to_string(settings_.window) + " units cannot be counted",
                "give at least one strike, and a window at least as long");
}

bool OutlierStrikes::judged(ledger::ContributorId contributor, bool outlier) {
    if (struckOut_[contributor]) return false;
    std::deque<bool>& recent = recent_[contributor];
    recent.push_back(outlier);
    if (static_cast<int>(recent.size()) > settings_.window) recent.pop_front();
    if (strikes(contributor) < settings_.strikes) return false;
    struckOut_[contributor] = true;
    recent_.erase(contributor);
    return true;
}

int OutlierStrikes::strikes(ledger::ContributorId contributor) const {
    const auto it = recent_.find(contributor);
    if (it == recent_.end()) return 0;
    return static_cast<int>(std::count(it->second.begin(), it->second.end(), true));
}

}  // namespace raven::coordinator
