#pragma once
// UnitTimeline: where a worker's wall time goes, unit by unit, as the worker itself sees it (the
// coordinator's side of the same story is StepWaterfall.h). Every unit's life is stamped at each
// stage it reaches, on the worker's event-loop thread:
//
//   granted -> ready -> computeStarted -> computeEnded -> encoded -> sent -> answered
//
//   timeline.granted(serial, now); ... timeline.answered(serial, now);
//   std::string text = timeline.summary();   // medians of each stretch, for the worker's exit line
//
// Besides the stretches of one unit, it keeps the compute thread's own account: its busy share of
// the wall time since the first unit started, and the gaps between one unit's end and the next one's
// start (the stretches bench/distributed/run.sh sums under "idle" on the coordinator's side). The
// gap is cut by what ended it: the next unit's inputs still arriving (the lease or its weights came
// late) or the inputs on hand but the unit not yet started (this thread's own delay). Bounded: the
// medians are of the last few thousand units.
#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace raven::worker {

class UnitTimeline {
public:
    using Clock = std::chrono::steady_clock;
    enum class Stage { Granted, Ready, ComputeStarted, ComputeEnded, Encoded, Sent, Answered, Count };

    // RAVEN_UNIT_TIMELINE=1 in the environment also prints each unit's stamps as it is answered.
    UnitTimeline();

    void stamp(std::uint64_t serial, Stage stage, Clock::time_point now = Clock::now());
    // The unit left without an answer (handed back, dropped): its stamps are forgotten.
    void forget(std::uint64_t serial) { open_.erase(serial); }

    // "grant->ready 3.1 ms, ready->start 0.2, compute 17.0, encode 2.1, encoded->sent 0.1, sent->answered 25.3;
    //  compute thread busy 61% of 12.4 s, gaps 9.8 ms (waiting for inputs 9.1, inputs on hand 0.7)" (medians), or
    // an empty string before any unit was answered.
    std::string summary() const;

private:
    using Stamps = std::array<Clock::time_point, static_cast<std::size_t>(Stage::Count)>;
    std::map<std::uint64_t, Stamps> open_;
    std::vector<double> stretches_[static_cast<std::size_t>(Stage::Count) - 1];  // stage i -> i + 1, ms
    std::vector<double> gapsWaiting_, gapsOnHand_;  // ms between one compute's end and the next's start
    Clock::time_point firstStart_{}, lastEnd_{};
    double busyMs_ = 0.0;
    bool lastEndSeen_ = false;
    Clock::time_point origin_;
    double originUnixMs_ = 0.0;
    bool traceEach_ = false;
};

}  // namespace raven::worker
