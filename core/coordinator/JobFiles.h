#pragma once
// JobFiles: where a job's files live in the data directory, and the checkpoints a requester may
// download (also after the job ended, when no JobRunner holds it any more).
//
//   jobs/<id>/state.safetensors        weights + optimizer state + step (nn::toCheckpoint): the truth
//   jobs/<id>/results/<unit>.result    an accepted result: header and gradient in one file (ResultFile.h)
//   jobs/<id>/results/<unit>.f32       the layout before, still read: an accepted gradient (float32)
//   jobs/<id>/results/<unit>.json        and its sample count, summed loss, correct count, contributor
//   jobs/<id>/v<version>.safetensors   checkpoints kept for download (the newest three)
//   jobs/<id>/published-<v>.safetensors an int8-down job's published weights of the current version
//   jobs/<id>/metrics.jsonl            every MetricsUpdate, one JSON object a line
//   jobs/<id>/failure.txt              why the coordinator stopped the job (state failed)
#include <QByteArray>
#include <QDir>
#include <QString>

#include <optional>

#include "ledger/StoreTypes.h"

namespace raven::coordinator {

class JobFiles {
public:
    JobFiles(const QString& dataDir, ledger::JobId job);

    const QDir& dir() const { return dir_; }
    QString statePath() const { return dir_.filePath("state.safetensors"); }
    QString resultsDir() const { return dir_.filePath("results"); }
    QString resultPath(ledger::WorkUnitId unit) const;
    // The two files of the layout before (read, never written, by this coordinator).
    QString gradientPath(ledger::WorkUnitId unit) const;
    QString resultInfoPath(ledger::WorkUnitId unit) const;
    // Removes a result's file(s), whichever layout they have.
    void removeResult(ledger::WorkUnitId unit) const;
    QString checkpointPath(qint64 version) const;
    // A stale job's weights of `version` (LocalStepsConfig.h): what its lanes start from once the
    // state file has moved on to version + 1. Not a v<version> checkpoint: weights only.
    QString roundWeightsPath(qint64 version) const;
    // An int8-down job's published weights P(version) (checkpoint/WeightsDelta.h): what its workers
    // compute on; written before the state file moves to `version`, so it survives a restart.
    QString publishedWeightsPath(qint64 version) const;
    QString metricsPath() const { return dir_.filePath("metrics.jsonl"); }
    QString failurePath() const { return dir_.filePath("failure.txt"); }

    // Creates the folders (raven::Error when it cannot).
    void create() const;
    // The versions of the v<version>.safetensors files, ascending.
    QList<qint64> checkpointVersions() const;
    // A downloadable checkpoint: `version` 0 or the current one is the state file; another version
    // its v<version> file. nullopt when it is not kept.
    std::optional<QByteArray> checkpoint(qint64 version, qint64 currentVersion) const;
    // Why the job failed; empty when it did not.
    QString failure() const;
    void recordFailure(const QString& why) const;

private:
    QDir dir_;
};

}  // namespace raven::coordinator
