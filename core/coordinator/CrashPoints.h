#pragma once
// CrashPoints: a test facility that ends the coordinator abruptly at a named place between two
// durable writes, to show that a crash there loses nothing and pays nothing twice.
//
//   RAVEN_CRASH_POINT=state-written:3 raven-coordinator serve ...   // dies the 3rd time it gets there
//   RAVEN_CRASH_POINT=result-saved:p0.25 RAVEN_CRASH_SEED=7 ...     // dies there with probability 1/4
//
//   crashPoint(CrashPoint::StateWritten);   // in the engine, between the two writes
//
// armCrashPoints() reads the environment once, at serve start; unset, every crashPoint() is one
// predictable branch on a cached bool. Armed, reaching the point prints one line to stderr and calls
// std::_Exit(kCrashExitCode): no destructors, no flushing, no SQLite close, as a SIGKILL would.
// See "Crash points" in docs/coordinator.md.
#include <QString>
#include <QStringList>

namespace raven::coordinator {

enum class CrashPoint {
    ResultGradientWritten,  // a batch's result files are fsynced under temporary names, none renamed
    ResultSaved,            // a result's files are on disk, the store has not accepted (paid) it
    ResultAccepted,         // the store accepted and paid a result, its worker has no ack
    StateWritten,           // a step's state file is on disk, the store is a version behind
    VersionStored,          // the store has the new version (and the next step's units), the step's result files and units remain
    CheckpointWritten,      // a v<version> checkpoint is on disk, older ones are not pruned
    RewindStateWritten,     // a rewind's state file is on disk, its staged states and results not moved in
    PublishedWritten,       // an int8-down job's P(V + 1) is on disk, its state file is at V
    RoundWeightsWritten,    // a stale job's weights of V (round V + 1's start) are on disk, its state file at V
    AheadLaneAccepted,      // a unit of step V + 1 paid (a lane, or leased ahead), V's state not yet written
};

// The exit status of a process ended at a crash point (tests tell it apart from other deaths).
inline constexpr int kCrashExitCode = 86;

// The names RAVEN_CRASH_POINT takes, e.g. "state-written".
QStringList crashPointNames();

// Reads RAVEN_CRASH_POINT and RAVEN_CRASH_SEED. raven::Error with the valid forms when the value is
// malformed: a mistyped name must not silently test nothing.
void armCrashPoints();

namespace detail {
extern bool crashPointsArmed;
void reachCrashPoint(CrashPoint point);
}  // namespace detail

inline void crashPoint(CrashPoint point) {
    if (detail::crashPointsArmed) [[unlikely]]
        detail::reachCrashPoint(point);
}

}  // namespace raven::coordinator
