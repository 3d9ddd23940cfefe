#include "worker/DutyCycle.h"

#include <algorithm>

namespace raven::worker {

namespace {

constexpr DutyCycle::Ms kMinControlWindow{10000};
constexpr DutyCycle::Ms kKeptHistory{300000};  // longer than any window asked about

}  // namespace

void DutyCycle::setPercent(int percent) {
    {
        std::lock_guard lock(mutex_);
        const int next = std::clamp(percent, 1, 100);
        if (next == percent_) return;
        percent_ = next;
        ++generation_;
        pieces_.clear();
        longestPiece_ = {};
        measuring_ = working_;
        if (working_) {
            workBegan_ = Clock::now();
            firstWork_ = workBegan_;
        }
    }
    wake_.notify_all();
}

int DutyCycle::percent() const {
    std::lock_guard lock(mutex_);
    return percent_;
}

void DutyCycle::workBegan() {
    std::lock_guard lock(mutex_);
    if (working_) return;
    working_ = true;
    workBegan_ = Clock::now();
    if (!measuring_) {
        measuring_ = true;
        firstWork_ = workBegan_;
    }
}

void DutyCycle::workEnded() {
    std::lock_guard lock(mutex_);
    if (!working_) return;
    working_ = false;
    const Clock::time_point now = Clock::now();
    pieces_.push_back({workBegan_, now});
    longestPiece_ = std::max(longestPiece_, now - workBegan_);
    while (!pieces_.empty() && pieces_.front().end < now - kKeptHistory) pieces_.pop_front();
}

DutyCycle::Ms DutyCycle::restBetweenChunks() {
    workEnded();
    const Clock::time_point restBegan = Clock::now();
    {
        std::unique_lock lock(mutex_);
        const Ms due = restDueLocked(Clock::now());
        if (due.count() > 0) {
            const std::uint64_t generation = generation_;
            wake_.wait_for(lock, due, [&] { return generation_ != generation; });
        }
    }
    workBegan();
    return std::chrono::floor<Ms>(Clock::now() - restBegan);
}

DutyCycle::Ms DutyCycle::restDue() const {
    std::lock_guard lock(mutex_);
    return restDueLocked(Clock::now());
}

void DutyCycle::cancelRests() {
    {
        std::lock_guard lock(mutex_);
        ++generation_;
    }
    wake_.notify_all();
}

DutyCycle::Clock::duration DutyCycle::busyLocked(Clock::time_point from, Clock::time_point now) const {
    Clock::duration busy{};
    for (const Piece& p : pieces_)
        if (p.end > from) busy += std::min(p.end, now) - std::max(p.begin, from);
    if (working_ && now > workBegan_) busy += now - std::max(workBegan_, from);
    return busy;
}

DutyCycle::Ms DutyCycle::restDueLocked(Clock::time_point now) const {
    if (percent_ >= 100 || !measuring_) return Ms(0);
    const Clock::duration window =
        std::min<Clock::duration>(std::max<Clock::duration>(kMinControlWindow, 3 * longestPiece_), kKeptHistory);
    const Clock::time_point from = std::max(firstWork_, now - window);
    const Clock::duration busy = busyLocked(from, now);
    // busy / (span + rest) <= percent / 100
    const Clock::duration rest = busy * 100 / percent_ - (now - from);
    return rest.count() > 0 ? std::chrono::ceil<Ms>(rest) : Ms(0);
}

double DutyCycle::busyShare(Ms window) const {
    std::lock_guard lock(mutex_);
    if (!measuring_) return -1.0;
    const Clock::time_point now = Clock::now();
    const Clock::time_point from = std::max(firstWork_, now - window);
    if (now - from < Ms(1)) return -1.0;
    const double share =
        std::chrono::duration<double>(busyLocked(from, now)) / std::chrono::duration<double>(now - from);
    return std::clamp(share, 0.0, 1.0);
}

DutyCycle::Ms DutyCycle::measuredSpan(Ms window) const {
    std::lock_guard lock(mutex_);
    if (!measuring_) return Ms(0);
    const Clock::time_point now = Clock::now();
    return std::chrono::floor<Ms>(now - std::max(firstWork_, now - window));
}

}  // namespace raven::worker
