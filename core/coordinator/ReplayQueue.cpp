#include "coordinator/ReplayQueue.h"

#include <algorithm>

#include "base/Error.h"

namespace raven::coordinator {

ReplayQueue::ReplayQueue(Limits limits, Start start) : limits_(limits), start_(std::move(start)) {
    RAVEN_CHECK(limits_.atOnce >= 1, "the coordinator needs at least one replay slot",
                "set CoordinatorOptions::verification.replaySlots to 1 or more");
    RAVEN_CHECK(limits_.parkedPerContributor >= 0, "a contributor cannot have a negative number of waiting replays",
                "set CoordinatorOptions::verification.replaysWaitingPerContributor to 0 or more");
}

ReplayQueue::Admission ReplayQueue::add(PendingReplay pending) {
    const ledger::ContributorId who = pending.checked.contributor;
    std::deque<PendingReplay>& mine = waiting_[who];
    if (busy_.count(who) || !mine.empty() || running_ >= limits_.atOnce) {
        if (static_cast<int>(mine.size()) >= limits_.parkedPerContributor) {
            if (mine.empty()) waiting_.erase(who);
            return Admission::Refused;
        }
        if (mine.empty()) turns_.push_back(who);
        held_.insert(pending.unit.id);
        mine.push_back(std::move(pending));
        startWaiting();  // a slot may be free (the contributor's own replay is what it waits for)
        return Admission::Parked;
    }
    waiting_.erase(who);
    held_.insert(pending.unit.id);
    busy_.insert(who);
    ++running_;
    start_(std::move(pending));
    return Admission::Started;
}

void ReplayQueue::finished(ledger::ContributorId contributor, ledger::WorkUnitId unit) {
    if (const auto it = held_.find(unit); it != held_.end()) held_.erase(it);
    if (busy_.erase(contributor)) --running_;
    startWaiting();
}

void ReplayQueue::startWaiting() {
    if (starting_) return;  // the outer loop goes on
    starting_ = true;
    // Each contributor whose turn it is and that has nothing running gets one replay; one that
    // still has one running keeps its place for the next round.
    std::size_t passes = turns_.size();
    while (running_ < limits_.atOnce && passes-- > 0 && !turns_.empty()) {
        const ledger::ContributorId who = turns_.front();
        turns_.pop_front();
        if (busy_.count(who)) {
            turns_.push_back(who);
            continue;
        }
        std::deque<PendingReplay>& mine = waiting_[who];
        PendingReplay next = std::move(mine.front());
        mine.pop_front();
        if (mine.empty())
            waiting_.erase(who);
        else
            turns_.push_back(who);
        busy_.insert(who);
        ++running_;
        passes = turns_.size();  // start_ may have finished one: look at everyone again
        start_(std::move(next));
    }
    starting_ = false;
}

std::size_t ReplayQueue::waiting() const {
    std::size_t n = 0;
    for (const auto& [who, list] : waiting_) n += list.size();
    return n;
}

std::size_t ReplayQueue::waiting(ledger::ContributorId contributor) const {
    const auto it = waiting_.find(contributor);
    return it == waiting_.end() ? 0 : it->second.size();
}

}  // namespace raven::coordinator
