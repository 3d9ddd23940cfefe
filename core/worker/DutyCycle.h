#pragma once
// DutyCycle: keeps a device's busy share at or below a percent (the contributor app's GPU usage cap),
// and measures the share it achieved.
//
//   DutyCycle duty;  duty.setPercent(50);
//   // compute thread, around each piece of work (a unit, or a chunk of one):
//   duty.workBegan();  ...compute...  duty.workEnded();
//   duty.restBetweenChunks();      // inside a unit: sleeps here as long as the share asks, then begins again
//   // protocol thread, between units:
//   restTimer.start(duty.restDue());
//   double share = duty.busyShare();   // over the last minute since the percent was set
//
// Why a share over recent history rather than "rest t * (100 - p) / p after a unit of t seconds": the
// device also waits for data, weights and the coordinator. Counting those waits as rest already taken
// is what keeps the share near the cap instead of far below it (a fixed rest after each unit took a
// 50 % cap down to a 20-27 % share on lavapipe, where the device waited for data half the time). The
// credit a wait gives is bounded by the control window (10 s, or three times the longest piece of
// work), so a long wait for work does not let the device run flat out for minutes afterwards.
//
// Thread-safe: the compute thread records work, the protocol or GUI thread asks for rests and shares.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>

namespace raven::worker {

class DutyCycle {
public:
    using Clock = std::chrono::steady_clock;
    using Ms = std::chrono::milliseconds;

    // 1..100 (clamped). A change starts the measurement afresh and wakes a rest in progress.
    void setPercent(int percent);
    int percent() const;

    void workBegan();
    void workEnded();
    // Ends the piece of work in progress, sleeps as long as restDue() says (woken early by setPercent or
    // cancelRests), and begins the next piece. For the compute thread, between chunks of a long unit.
    // Returns how long it rested.
    Ms restBetweenChunks();
    // How long to rest now so that the share over the control window stays at or below the percent.
    Ms restDue() const;
    // Wakes any rest in progress (the worker is stopping): the unit then finishes at full speed.
    void cancelRests();

    // Share of the wall time spent working over the last `window` (from the first work after the
    // percent was last set, when that is later); -1 before any work.
    double busyShare(Ms window = Ms(60000)) const;
    // The time measured so far (from the first work after the percent was set), capped at `window`.
    Ms measuredSpan(Ms window = Ms(60000)) const;

private:
    struct Piece {
        Clock::time_point begin, end;
    };
    // Work over [from, now], the piece in progress included. Caller holds mutex_.
    Clock::duration busyLocked(Clock::time_point from, Clock::time_point now) const;
    Ms restDueLocked(Clock::time_point now) const;

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    int percent_ = 100;
    std::uint64_t generation_ = 0;  // bumped by setPercent and cancelRests: ends a rest
    std::deque<Piece> pieces_;      // finished pieces of the last few minutes
    bool working_ = false;
    Clock::time_point workBegan_{};
    Clock::time_point firstWork_{};  // first work since the percent was set
    bool measuring_ = false;
    Clock::duration longestPiece_{};
};

}  // namespace raven::worker
