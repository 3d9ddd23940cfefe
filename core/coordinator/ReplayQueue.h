#pragma once
// ReplayQueue: which result's replay runs next on the coordinator's pool, and how much replay work
// one contributor may cause.
//
//   ReplayQueue queue({.atOnce = 1, .parkedPerContributor = 2}, [&](PendingReplay p) { start(p); });
//   switch (queue.add(std::move(pending))) {
//       case Admission::Started: case Admission::Parked: break;      // answered when replayed
//       case Admission::Refused: answer "wait for your results' answers";
//   }
//   ...replay done (on the event loop): queue.finished(contributor, unit);   // the next one starts
//
// A replay costs the coordinator the unit's whole computation (~150 ms of CPU for the MLP on a
// loaded machine), while a made-up result costs its sender nothing. So, per contributor: at most one
// replay in flight and `parkedPerContributor` waiting; a further result is refused (not counted
// against the sender: it may send it again once one is answered). Across contributors at most
// `atOnce` replays run at once (the pool's other threads keep taking in results and committing
// them), and waiting contributors take turns, so a flood from one identity delays the others'
// verification by one replay at most, and no one's lease, heartbeat or result waits on a replay:
// the event loop never computes one. A unit whose result waits or is replayed is held(): a second
// result for it waits until the first one's fate is known (as GroupCommit's holds()).
//
// `start` is called on the event loop, from add() or finished(); it may call finished() at once
// (e.g. it drops a result of a contributor quarantined while the result waited).
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <set>

#include "coordinator/ResultIngest.h"
#include "ledger/StoreTypes.h"

namespace raven::coordinator {

// A result that waits for its replay, with its unit as it was when the result arrived.
struct PendingReplay {
    CheckedResult checked;
    ledger::WorkUnit unit;
};

class ReplayQueue {
public:
    struct Limits {
        int atOnce = 1;                   // replays running at once, all contributors together
        int parkedPerContributor = 2;   // results of one contributor waiting behind its running one
    };
    enum class Admission { Started, Parked, Refused };
    using Start = std::function<void(PendingReplay)>;

    // raven::Error for atOnce < 1 or parkedPerContributor < 0.
    ReplayQueue(Limits limits, Start start);

    Admission add(PendingReplay pending);
    // The contributor's replay of `unit` is over (its result answered): the next waiting one starts.
    void finished(ledger::ContributorId contributor, ledger::WorkUnitId unit);
    bool holds(ledger::WorkUnitId unit) const { return held_.count(unit) > 0; }
    int running() const { return running_; }
    std::size_t waiting() const;
    std::size_t waiting(ledger::ContributorId contributor) const;
    const Limits& limits() const { return limits_; }

private:
    void startWaiting();

    Limits limits_;
    Start start_;
    int running_ = 0;
    bool starting_ = false;                                   // in startWaiting(): no re-entry
    std::set<ledger::ContributorId> busy_;                    // contributors with a replay running
    std::map<ledger::ContributorId, std::deque<PendingReplay>> waiting_;
    std::deque<ledger::ContributorId> turns_;                 // contributors with results waiting, in turn
    std::multiset<ledger::WorkUnitId> held_;                  // units running or waiting
};

}  // namespace raven::coordinator
