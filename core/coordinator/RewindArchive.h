#pragma once
// RewindArchive: what a verifiable job keeps of its recent steps so that a contributor caught later
// can be rewound out of the model (ModelRewind.h, docs/verification.md "Rewinding a caught
// contributor's unchecked results").
//
//   jobs/<id>/rewind/state-<V>.safetensors   the state file of version V (weights + optimizer), as it
//                                            was before step V was applied (a hard link: no copy)
//   jobs/<id>/rewind/<V>/<unit>.result       the accepted results step V was summed from (moved, not
//                                            copied, from results/ once the step is applied)
//   jobs/<id>/rewind/due.json                the rewinds due: the caught contributors' suspect units
//   jobs/<id>/rewind/staging/...             a rewind's recomputed states and results, same layout,
//                                            moved over the archive once its state file is written
//   jobs/<id>/rewind/commit.json             the SHA-256 of the state file the rewind writes, written
//                                            before it: a restart tells a finished rewind from one cut short
//
//   archive.keepState(V);                    // before state V + 1 replaces the state file
//   archive.keepResults(V, units);           // once V + 1 is stored
//   archive.dropBefore(keptFrom(V + 1, ledger.earliestPendingVersion(job), due));
//
// Bounded by the credits' verification window: a step is kept while one of its units still has a
// pending credit (its contributor may still be caught; after that its credit is confirmed and the
// result is final, docs/ledger.md), or while a rewind due from it has not run yet. A job's archive
// goes when the job ends.
#include <QList>
#include <QString>

#include <optional>
#include <set>

#include "coordinator/JobFiles.h"
#include "ledger/StoreTypes.h"

namespace raven::coordinator {

class RewindArchive {
public:
    explicit RewindArchive(const JobFiles& files);
    RewindArchive(const JobFiles& files, const QString& dir);

    QString dir() const;
    QString statePath(qint64 version) const;
    QString resultPath(qint64 step, ledger::WorkUnitId unit) const;

    // Links the current state file (version `version`) into the archive before it is replaced;
    // copies it where the file system has no hard links. raven::Error when neither works.
    void keepState(qint64 version) const;
    // Moves the results of step `step` from results/ into the archive (those not there are skipped:
    // a step replayed after a restart moved them already).
    void keepResults(qint64 step, const QList<ledger::WorkUnitId>& units) const;
    bool hasStep(qint64 step) const;
    // The archived steps, ascending (those whose state is kept).
    QList<qint64> steps() const;
    // Removes every step below `step` (its state and its results).
    void dropBefore(qint64 step) const;
    // Removes the whole archive (the job ended).
    void remove() const;

    // --- a rewind's crash safety (ModelRewind.h) ------------------------------------------------
    // The suspect units of the rewinds due, kept across a restart; empty: none.
    std::set<ledger::WorkUnitId> due() const;
    // Replaces the file's list (fsynced); an empty set removes the file.
    void setDue(const std::set<ledger::WorkUnitId>& suspects) const;
    // Where a rewind writes what it recomputes: the same layout under staging/.
    RewindArchive staging() const;
    // The intent, before the rewind's last write: the state file will hold `stateBytes`.
    void beginCommit(const QByteArray& stateBytes) const;
    // After the rewind's state file is written, or at start-up: when the state file holds what
    // beginCommit() announced, the staged states and results replace the archived ones (the rewind
    // happened); else they are discarded (it was cut short: the archive is as before it, and the
    // rewind is done again). Returns whether the staged files were taken.
    bool settleStaging(const QString& liveStatePath) const;

    // The retention rule: the first step to keep when the job is at `version`, the earliest model
    // version with a pending credit is `earliestPending` (none: nullopt) and the earliest step a
    // rewind still due needs is `earliestDue` (none: nullopt). Nothing below it can be rewound any
    // more: its results are final (confirmed or revoked).
    static qint64 keptFrom(qint64 version, std::optional<qint64> earliestPending, std::optional<qint64> earliestDue);

private:
    JobFiles files_;
    QString dir_;
};

}  // namespace raven::coordinator
