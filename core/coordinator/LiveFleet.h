#pragma once
// LiveFleet: the contributors connected and not lapsed, with their speed, kept as sessions change
// instead of counted by scanning every session on each lease grant.
//
//   fleet.set(connection, contributor, weight);   // a live contributor session (or its new speed)
//   fleet.drop(connection);                       // it lapsed, left, or became something else
//   fleet.totalWeight();                          // Scheduler's fleet speed: each contributor once
//
// A contributor may hold several sessions; it counts once, at the largest weight among them
// (as Engine::totalConnectedGflops did by scanning).
#include <cstdint>
#include <map>
#include <set>

#include "ledger/StoreTypes.h"

namespace raven::coordinator {

class LiveFleet {
public:
    void set(std::uint64_t connection, ledger::ContributorId contributor, double weight);
    void drop(std::uint64_t connection);

    double totalWeight() const { return total_; }
    int contributors() const { return static_cast<int>(weights_.size()); }
    // Live sessions of this contributor other than `connection`.
    bool onlineElsewhere(ledger::ContributorId contributor, std::uint64_t connection) const;

private:
    struct Entry {
        ledger::ContributorId contributor = 0;
        double weight = 0.0;
    };
    double largest(ledger::ContributorId contributor) const;

    std::map<std::uint64_t, Entry> sessions_;
    std::map<ledger::ContributorId, std::multiset<double>> weights_;  // of each contributor's live sessions
    double total_ = 0.0;
};

}  // namespace raven::coordinator
