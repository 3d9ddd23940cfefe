#pragma once
// ComparePage: two or more jobs overlaid: their smoothed training loss and their test accuracy on
// shared axes, and the diff of their settings (ConfigDiffModel). Any of the requester's jobs can be
// ticked: the histories come from disk and the coordinator (RunHistories), the settings from what
// the coordinator says of each job (describeJob of a JobInfo) with the names kept here.
#include <QWidget>

class QLabel;
class QListWidget;
class QTableView;
class QVBoxLayout;

namespace raven::console {

class ConfigDiffModel;
class ConnectionService;
class RunHistories;
class JobWatcher;
class JobsService;
class MetricChart;

class ComparePage : public QWidget {
    Q_OBJECT
public:
    ComparePage(JobsService& jobs, JobWatcher& watcher, ConnectionService& connection, QWidget* parent = nullptr);
    // Ticks the jobs to compare (as the person does in the list) and redraws.
    void compare(const QStringList& jobIds);
    MetricChart* lossChart() const { return loss_; }
    MetricChart* accuracyChart() const { return accuracy_; }
    ConfigDiffModel* diff() const { return diff_; }
    RunHistories* histories() const { return histories_; }

private:
    void refillJobs();
    void redraw();
    QStringList checkedJobs() const;

    JobsService& jobs_;
    JobWatcher& watcher_;
    RunHistories* histories_;
    QListWidget* list_;
    QVBoxLayout* charts_;
    MetricChart* loss_ = nullptr;
    MetricChart* accuracy_ = nullptr;
    ConfigDiffModel* diff_;
    QTableView* diffView_;
    QLabel* note_;
};

}  // namespace raven::console
