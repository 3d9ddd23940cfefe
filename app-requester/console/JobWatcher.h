#pragma once
// JobWatcher: follows one job live into its JobHistory: the coordinator's metrics and events (the
// past ones replayed first, skipped where the history on disk has them), the spend from the job
// list, and who computes the job (the coordinator's per-contributor figures, asked for every 2 s
// while the job runs, and once for a finished one). Follows again after a lost connection comes back.
#include <QObject>
#include <QString>
#include <QTimer>
#include <memory>

#include "JobHistory.h"

namespace raven::console {

class ConnectionService;
class JobsService;

class JobWatcher : public QObject {
    Q_OBJECT
public:
    // Histories are kept under `historyDirectory`.
    JobWatcher(ConnectionService& connection, JobsService& jobs, QString historyDirectory, QObject* parent = nullptr);
    ~JobWatcher() override;

    // Where histories are kept from now on (one folder per coordinator: job ids are per coordinator).
    void setHistoryDirectory(const QString& directory);
    // Opens the job's history from disk and follows the job; an empty id stops following.
    void watch(const QString& jobId);
    const QString& jobId() const { return jobId_; }
    const QString& historyDirectory() const { return directory_; }
    // Null before watch().
    const JobHistory* history() const { return history_.get(); }
    // Who computed the job, as the coordinator last said (empty until it answers).
    const wire::JobContributors& contributors() const { return contributors_; }
    // Asks the coordinator for the job's contributors now (the timer does it every 2 s).
    void refreshContributors();

signals:
    // New points, events or spend arrived (or the history was opened): the charts redraw.
    void historyChanged();
    void problem(const QString& message);
    void contributorsChanged();

private:
    void subscribe();
    void unsubscribe();
    void recordSpend();

    ConnectionService& connection_;
    JobsService& jobs_;
    QString directory_;
    QString jobId_;
    std::unique_ptr<JobHistory> history_;
    std::uint64_t subscription_ = 0;
    wire::JobContributors contributors_;
    QTimer contributorsPoll_;
};

}  // namespace raven::console
