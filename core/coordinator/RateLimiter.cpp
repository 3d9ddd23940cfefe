#include "coordinator/RateLimiter.h"

namespace raven::coordinator {

bool RateLimiter::tryAcquire(const QString& key, const QDateTime& now) {
    const QDateTime cutoff = now.addMSecs(-window_.count());
    auto it = events_.find(key);
    if (it != events_.end()) {
        while (!it->second.empty() && it->second.front() <= cutoff) it->second.pop_front();
        if (static_cast<int>(it->second.size()) >= maxEvents_) return false;
    } else {
        if (maxEvents_ <= 0) return false;
        if (events_.size() >= kMaxKeys) forgetBefore(cutoff);
        while (events_.size() >= kMaxKeys) {
            // Still full of live keys: drop the one whose newest event is oldest.
            auto oldest = events_.begin();
            for (auto k = events_.begin(); k != events_.end(); ++k)
                if (k->second.back() < oldest->second.back()) oldest = k;
            events_.erase(oldest);
        }
        it = events_.emplace(key, std::deque<QDateTime>{}).first;
    }
    it->second.push_back(now);
    return true;
}

QDateTime RateLimiter::nextAllowed(const QString& key, const QDateTime& now) const {
    const auto it = events_.find(key);
    if (it == events_.end() || static_cast<int>(it->second.size()) < maxEvents_) return now;
    const QDateTime cutoff = now.addMSecs(-window_.count());
    int live = 0;
    for (const QDateTime& t : it->second) live += t > cutoff ? 1 : 0;
    if (live < maxEvents_) return now;
    // The oldest live event ages out first.
    for (const QDateTime& t : it->second)
        if (t > cutoff) return t.addMSecs(window_.count());
    return now;
}

void RateLimiter::forgetBefore(const QDateTime& cutoff) {
    for (auto it = events_.begin(); it != events_.end();) {
        while (!it->second.empty() && it->second.front() <= cutoff) it->second.pop_front();
        it = it->second.empty() ? events_.erase(it) : std::next(it);
    }
}

}  // namespace raven::coordinator
