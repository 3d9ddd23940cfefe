#pragma once
// WatchPage: one job, live. Training loss (raw faded behind, smoothed in front, smoothing adjustable)
// with the evaluation loss, test accuracy, samples/s, and credits spent against the budget with the
// forecast to the end; the x axis by step or wall time; log scale; the job's events as markers on
// the curves and as a list; who computed the job (JobContributorsModel); the ETA. It draws what
// JobWatcher keeps (on disk, so it opens at once).
#include <QWidget>

class QTimer;
class QCheckBox;
class QComboBox;
class QLabel;
class QListWidget;
class QSlider;
class QTableView;

namespace raven::console {

class JobContributorsModel;
class JobWatcher;
class JobsService;
class MetricChart;

class WatchPage : public QWidget {
    Q_OBJECT
public:
    WatchPage(JobWatcher& watcher, JobsService& jobs, QWidget* parent = nullptr);

    MetricChart* lossChart() const { return loss_; }
    MetricChart* accuracyChart() const { return accuracy_; }
    QTableView* contributorsTable() const { return contributorsTable_; }
    // Redraws everything from the history (the watcher's signal calls it; tests and benchmarks too).
    void redraw();

private:
    void updateHeader();

    // New points arrive one step at a time; the page redraws at most every 250 ms so that a long
    // history (a full rebuild of every series) never takes the GUI thread's time away.
    QTimer* redrawSoon_;
    QString drawnJob_;
    JobWatcher& watcher_;
    JobsService& jobs_;
    QLabel* header_;
    QLabel* problem_;
    QComboBox* xAxis_;
    QSlider* smoothing_;
    QLabel* smoothingValue_;
    QCheckBox* logScale_;
    MetricChart* loss_;
    MetricChart* accuracy_;
    MetricChart* throughput_;
    MetricChart* credits_;
    QListWidget* events_;
    JobContributorsModel* contributors_;
    QTableView* contributorsTable_;
    QLabel* contributorsSummary_;
    int lossRaw_ = 0, lossSmooth_ = 0, lossEval_ = 0, accuracyLine_ = 0, throughputLine_ = 0;
    int spentLine_ = 0, budgetLine_ = 0, forecastLine_ = 0;
};

}  // namespace raven::console
