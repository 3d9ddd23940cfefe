#pragma once
// RunHistories: the histories of the jobs being compared, whichever jobs they are: what is on disk
// (JobHistory, as the Training page keeps it), completed by the coordinator's replay of each job's
// metrics, so that a job never opened on this machine compares too. The watched job is left to
// JobWatcher (one writer per history file); each fetch ends when its job has finished, or when the
// job is no longer compared.
#include <QObject>
#include <QStringList>
#include <QTimer>
#include <map>
#include <memory>

#include "JobHistory.h"

namespace raven::console {

class ConnectionService;
class JobWatcher;

class RunHistories : public QObject {
    Q_OBJECT
public:
    RunHistories(ConnectionService& connection, JobWatcher& watcher, QObject* parent = nullptr);
    ~RunHistories() override;

    // The jobs to keep histories of from now on (others are let go).
    void setJobs(const QStringList& jobIds);
    // The job's history as known now (the watched job's is JobWatcher's); never null for a job of
    // setJobs().
    const JobHistory* history(const QString& jobId) const;
    // Fetches in progress.
    int fetching() const;

signals:
    // New points arrived for the compared jobs (at most every 250 ms).
    void historiesChanged();

private:
    struct Run {
        std::unique_ptr<JobHistory> history;
        std::uint64_t subscription = 0;
        bool complete = false;  // the job's replay reached its final state
    };
    void fetch(const QString& jobId, Run& run);
    void stop(Run& run);

    ConnectionService& connection_;
    JobWatcher& watcher_;
    std::map<QString, Run> runs_;
    QTimer changedSoon_;
};

}  // namespace raven::console
