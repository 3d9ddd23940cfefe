#pragma once
// RateLimiter: at most N events per key in any sliding window (open enrollments per IP address per
// hour). Keys whose events have all aged out are forgotten, so a stream of one-off addresses cannot
// grow it without bound; beyond kMaxKeys distinct keys the oldest key is dropped first.
//
//   RateLimiter enrollments(20, std::chrono::hours(1));
//   if (!enrollments.tryAcquire(address, now)) refuse(UNAVAILABLE, "too many enrollments from ...");
#include <QDateTime>
#include <QString>

#include <chrono>
#include <deque>
#include <map>

namespace raven::coordinator {

class RateLimiter {
public:
    static constexpr std::size_t kMaxKeys = 100000;

    RateLimiter(int maxEvents, std::chrono::milliseconds window) : maxEvents_(maxEvents), window_(window) {}

    // Records an event for `key` and returns true, or returns false (recording nothing) when the key
    // already had maxEvents in the window ending now.
    bool tryAcquire(const QString& key, const QDateTime& now);
    // When the key may next succeed (now, when it may already).
    QDateTime nextAllowed(const QString& key, const QDateTime& now) const;
    std::size_t keys() const { return events_.size(); }

private:
    void forgetBefore(const QDateTime& cutoff);

    int maxEvents_;
    std::chrono::milliseconds window_;
    std::map<QString, std::deque<QDateTime>> events_;
};

}  // namespace raven::coordinator
