#pragma once
// JobListModel: the requester's jobs on the coordinator as a table (job, name, state, progress,
// spent of budget), over JobsService; the jobs page's list and the way to a job's own pages.
#include <QAbstractTableModel>
#include <QStringList>

namespace raven::console {

class JobsService;

class JobListModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Job, Name, State, Progress, Spent, ColumnCount };
    static constexpr int IdRole = Qt::UserRole + 1;     // the job id
    static constexpr int StateRole = Qt::UserRole + 2;  // wire::JobState as int
    // What can be done to the job in its state (bool), so that pages need not know the states.
    static constexpr int CanPauseRole = Qt::UserRole + 3;
    static constexpr int CanResumeRole = Qt::UserRole + 4;
    static constexpr int CanCancelRole = Qt::UserRole + 5;

    explicit JobListModel(JobsService& jobs, QObject* parent = nullptr);
    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    void jobsChanged();
    JobsService& jobs_;
    QStringList ids_;  // the rows as the view knows them
};

}  // namespace raven::console
