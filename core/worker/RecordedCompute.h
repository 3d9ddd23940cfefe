#pragma once
// RecordedCompute: the worker's arithmetic recorded once and replayed, for benchmarks only. It lets a
// machine with few cores run many workers whose compute phase takes as long as a real one did,
// without the workers' arithmetic fighting over the cores, so that what is measured is everything
// around it: the coordinator, the protocol, TLS, fsync, exactly-once, determinism under concurrency.
//
//   raven-worker --record DIR ...   computes as usual and keeps, per unit, the SubmitResult parts it
//                                   sent and the seconds the computation took;
//   raven-worker --replay DIR ...   does everything a real worker does (TLS, lease, fetch and verify
//                                   the manifest, shards and weights, decode the shards, parse the
//                                   weights, submit) but, instead of the arithmetic, waits out the
//                                   recorded seconds and sends the recorded parts.
//
//   RecordedCompute replay(RecordedCompute::Mode::Replay, dir);   // raven::Error when dir is unusable
//   if (!replay.has(unit)) handBack(unit, replay.missingReason(unit));
//   ComputedUnit done = replay.compute(computer, inputs);          // on the compute thread
//
// A recording is keyed by what makes a unit's result: the job id, the model version, the model
// spec's hash and the unit's shard hashes in order (RecordKey). The unit's id is not in the key (the
// coordinator numbers units as it creates them) and is written into the replayed parts. Replaying the
// same job (same data, spec, seed, batch and shards per unit, on a coordinator that gives it the same
// id, e.g. a fresh one) therefore sends exactly the gradients of the recorded run, and its final
// weights equal the recorded run's bit for bit; anything else (another seed) gives other weights,
// which is why the benchmark compares them. A unit with no recording is not the unit's fault: the
// worker hands it back without could_not_compute.
//
// One file per unit in DIR, named by the SHA-256 of its key: magic "RAVENREC", format version, the key
// (checked on load), the seconds, the unit's summary figures and the parts' serialized bytes.
//
// Threads: compute() runs on the worker's compute thread; has() and missingReason() on the worker's
// own. Both only read the folder (records are written whole through QSaveFile), so no lock is needed.
#include <QString>

#include <string>

#include "worker/UnitComputer.h"

namespace raven::worker {

// "job/version/spec/shard,shard,...": the inputs a unit's result is a function of.
std::string recordKey(const wire::WorkUnit& unit);

class RecordedCompute {
public:
    enum class Mode { Record, Replay };

    // Record: creates `dir` when missing. Replay: `dir` must exist and hold at least one record.
    // raven::Error saying what to do otherwise.
    RecordedCompute(Mode mode, QString dir);

    Mode mode() const { return mode_; }
    const QString& dir() const { return dir_; }

    // Replay: whether `unit` has a recording (always true when recording).
    bool has(const wire::WorkUnit& unit) const;
    // Why a unit without a recording is handed back, for the coordinator and the log.
    QString missingReason(const wire::WorkUnit& unit) const;

    // Record: computer.compute(inputs), stored when it succeeded. Replay: the inputs verified and
    // decoded as compute() would, then the recorded seconds waited out and the recorded result
    // returned under this unit's id. Never throws (a problem comes back in `error`).
    ComputedUnit compute(UnitComputer& computer, const UnitInputs& inputs);

    // The file that holds (or would hold) a unit's record.
    QString pathFor(const wire::WorkUnit& unit) const;

private:
    ComputedUnit replay(const UnitInputs& inputs);
    void store(const wire::WorkUnit& unit, const ComputedUnit& done) const;

    Mode mode_;
    QString dir_;
    std::string weightsParsed_;  // "job/version" last parsed in replay: a real worker parses once per version
};

}  // namespace raven::worker
