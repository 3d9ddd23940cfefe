#pragma once
// Backoff: how long a worker waits before it tries to reach its coordinator again.
//
//   Backoff backoff;                       // 0.5 s, doubling, at most 30 s, 25 % jitter
//   QTimer::singleShot(backoff.nextDelayMs(), this, &Worker::connectNow);   // after each failure
//   backoff.reset();                       // after a session that got as far as registering
//
// Attempt n (0-based) waits base(n) = min(30 s, 0.5 s * 2^n), shortened by a random jitter of up to a
// quarter: a delay in (0.75 base(n), base(n)]. The jitter spreads the reconnections of many workers
// after a coordinator restart, so they do not all arrive in the same instant; shortening (never
// lengthening) keeps the schedule's bound a promise a person can read in the docs.
#include <cstdint>
#include <random>

namespace raven::worker {

struct BackoffSchedule {
    int initialMs = 500;
    int maxMs = 30000;
    double jitter = 0.25;  // fraction of the delay that may be taken off, in [0, 1)
};

class Backoff {
public:
    using Schedule = BackoffSchedule;

    // `seed` makes the jitter reproducible (tests); 0 draws one at random.
    explicit Backoff(Schedule schedule = {}, std::uint64_t seed = 0);

    // The delay before the next attempt, and counts the attempt.
    int nextDelayMs();
    // Attempts since the last reset().
    int attempts() const { return attempts_; }
    void reset() { attempts_ = 0; }

    // base(attempt) without jitter.
    static int baseDelayMs(const Schedule& schedule, int attempt);
    const Schedule& schedule() const { return schedule_; }

private:
    Schedule schedule_;
    int attempts_ = 0;
    std::mt19937_64 random_;
};

}  // namespace raven::worker
