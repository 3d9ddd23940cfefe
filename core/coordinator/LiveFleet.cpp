#include "coordinator/LiveFleet.h"

namespace raven::coordinator {

double LiveFleet::largest(ledger::ContributorId contributor) const {
    const auto it = weights_.find(contributor);
    return it == weights_.end() || it->second.empty() ? 0.0 : *it->second.rbegin();
}

void LiveFleet::set(std::uint64_t connection, ledger::ContributorId contributor, double weight) {
    drop(connection);
    const double before = largest(contributor);
    weights_[contributor].insert(weight);
    sessions_[connection] = {contributor, weight};
    total_ += largest(contributor) - before;
}

void LiveFleet::drop(std::uint64_t connection) {
    const auto it = sessions_.find(connection);
    if (it == sessions_.end()) return;
    const Entry entry = it->second;
    sessions_.erase(it);
    const double before = largest(entry.contributor);
    std::multiset<double>& weights = weights_[entry.contributor];
    weights.erase(weights.find(entry.weight));
    if (weights.empty()) weights_.erase(entry.contributor);
    total_ += largest(entry.contributor) - before;
    if (sessions_.empty()) total_ = 0.0;  // no rounding left over once the fleet is empty
}

bool LiveFleet::onlineElsewhere(ledger::ContributorId contributor, std::uint64_t connection) const {
    const auto it = weights_.find(contributor);
    if (it == weights_.end()) return false;
    const auto own = sessions_.find(connection);
    const bool ownIsLive = own != sessions_.end() && own->second.contributor == contributor;
    return it->second.size() > (ownIsLive ? 1u : 0u);
}

}  // namespace raven::coordinator
