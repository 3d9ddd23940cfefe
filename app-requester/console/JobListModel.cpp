#include "JobListModel.h"

#include "CreditsText.h"
#include "JobsService.h"
#include "requester/Credits.h"

namespace raven::console {

JobListModel::JobListModel(JobsService& jobs, QObject* parent) : QAbstractTableModel(parent), jobs_(jobs) {
    connect(&jobs_, &JobsService::jobsChanged, this, &JobListModel::jobsChanged);
    jobsChanged();
}

void JobListModel::jobsChanged() {
    QStringList ids;
    for (const auto& j : jobs_.jobs()) ids << QString::fromStdString(j.job_id());
    if (ids != ids_) {
        beginResetModel();
        ids_ = ids;
        endResetModel();
    } else if (!ids_.isEmpty()) {
        emit dataChanged(index(0, 0), index(int(ids_.size()) - 1, ColumnCount - 1));
    }
}

int JobListModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(ids_.size()); }
int JobListModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant JobListModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
    const wire::JobInfo* j = jobs_.job(ids_[index.row()]);
    if (!j) return {};
    if (role == IdRole) return ids_[index.row()];
    if (role == StateRole) return int(j->state());
    const bool finished = requester::isFinished(j->state());
    if (role == CanPauseRole) return !finished && j->state() != wire::JOB_STATE_PAUSED;
    if (role == CanResumeRole) return j->state() == wire::JOB_STATE_PAUSED;
    if (role == CanCancelRole) return !finished;
    if (role == Qt::ToolTipRole) return QString::fromStdString(j->message());
    if (role != Qt::DisplayRole) return {};
    switch (index.column()) {
        case Job:
            return ids_[index.row()];
        case Name:
            return QString::fromStdString(j->name());
        case State:
            return requester::jobStateName(j->state());
        case Progress:
            return j->total_steps() ? tr("%1 of %2 steps (%3%)")
                                          .arg(j->step())
                                          .arg(j->total_steps())
                                          .arg(100 * j->step() / j->total_steps())
                                    : tr("%1 steps").arg(j->step());
        case Spent:
            return tr("%1 of %2 credits")
                .arg(app::creditsAmount(j->spent_micro_credits()), app::creditsAmount(j->budget_micro_credits()));
        default:
            return {};
    }
}

QVariant JobListModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    static const char* names[] = {QT_TR_NOOP("Job"), QT_TR_NOOP("Name"), QT_TR_NOOP("State"), QT_TR_NOOP("Progress"),
                                  QT_TR_NOOP("Spent")};
    return section >= 0 && section < ColumnCount ? tr(names[section]) : QVariant();
}

}  // namespace raven::console
