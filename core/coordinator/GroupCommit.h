#pragma once
// GroupCommit: results that arrive together are made durable together.
//
//   GroupCommit commit(pool, engine, [&](std::vector<CommitItem> batch) { one transaction; answers });
//   commit.add({checked, runner.files()});   // a checked, plausible result of a unit not yet done
//
// An accepted result must be on disk before the store counts (and pays) it. Doing that per result
// costs an fsynced file, a directory fsync and a SQLite commit each, on the event loop. Here the
// results waiting when a write can start form one batch: a worker thread writes each result's one
// file (ResultFile.h) under a temporary name, fsyncs them all, renames them and fsyncs each directory
// once, and only then hands the batch back to the event loop, which accepts the whole batch in ONE
// store transaction, pays and answers each. Up to kBatchesInFlight batches are written at once
// (their fsyncs overlap, and the file system's journal may commit them together); results that
// arrive while that many are in flight wait for the next batch, so the batch grows with the load
// (as a database's group commit does). Batches may come back in any order.
//
// Order per result: its file written and fsynced under a temporary name (crash point
// result-gradient-written), renamed and durable (result-saved), then the store's transaction
// (result-accepted). A unit appears at most once in the files being written: the caller holds back
// a second result for a unit that holds() says is already here until the first one's fate is known.
#include <QObject>
#include <QThreadPool>

#include <functional>
#include <set>
#include <vector>

#include "coordinator/JobFiles.h"
#include "coordinator/ResultIngest.h"

namespace raven::coordinator {

class SpareFiles;

struct CommitItem {
    CheckedResult checked;
    JobFiles files;
    QString failure;  // set by the writer when the batch could not be written (then nothing is durable)

    CommitItem(CheckedResult c, JobFiles f, QString why = {})
        : checked(std::move(c)), files(std::move(f)), failure(std::move(why)) {}
    // Moved, never copied, when a batch's vector grows: QDir (in JobFiles) has no noexcept move of
    // its own, and without this std::vector copied every waiting gradient (0.94 MB each) on growth.
    CommitItem(CommitItem&&) noexcept = default;
    CommitItem& operator=(CommitItem&&) noexcept = default;
    CommitItem(const CommitItem&) = delete;
    CommitItem& operator=(const CommitItem&) = delete;
};

class GroupCommit {
public:
    static constexpr int kBatchesInFlight = 2;
    using Durable = std::function<void(std::vector<CommitItem>)>;

    // `durable` runs on `context`'s thread with each written batch (or a failed one, each item's
    // `failure` set); the next batch starts after it returns. Results are written over `spares`
    // where their directories have some (SpareFiles.h).
    GroupCommit(QThreadPool& pool, QObject& context, Durable durable, SpareFiles* spares = nullptr);

    void add(CommitItem item);
    // Whether a result of this unit is waiting or being written.
    bool holds(ledger::WorkUnitId unit) const { return units_.count(unit) > 0; }
    bool idle() const { return writing_ == 0 && waiting_.empty(); }
    std::size_t lastBatchSize() const { return lastBatch_; }

    // The files of a batch, made durable on the calling thread (raven::Error when one fails).
    static void write(const std::vector<CommitItem>& batch, SpareFiles* spares = nullptr);

private:
    void startBatch();

    QThreadPool& pool_;
    QObject& context_;
    Durable durable_;
    SpareFiles* spares_;
    std::vector<CommitItem> waiting_;
    std::set<ledger::WorkUnitId> units_;  // of waiting_ and the batches being written
    int writing_ = 0;                     // batches in flight
    std::size_t lastBatch_ = 0;
};

}  // namespace raven::coordinator
