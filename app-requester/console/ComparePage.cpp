#include "ComparePage.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QSignalBlocker>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

#include "ConfigDiffModel.h"
#include "JobHistory.h"
#include "JobSettings.h"
#include "JobWatcher.h"
#include "JobsService.h"
#include "MetricChart.h"
#include "RunHistories.h"
#include "requester/Credits.h"

namespace raven::console {

namespace {
// Distinct colours for up to eight runs, then again.
QColor runColour(int i) {
    static const QColor colours[] = {QColor(30, 100, 200),  QColor(200, 60, 40), QColor(40, 150, 60),
                                     QColor(150, 70, 170),  QColor(220, 140, 0), QColor(0, 150, 160),
                                     QColor(120, 120, 120), QColor(180, 40, 120)};
    return colours[i % 8];
}
}  // namespace

ComparePage::ComparePage(JobsService& jobs, JobWatcher& watcher, ConnectionService& connection, QWidget* parent)
    : QWidget(parent), jobs_(jobs), watcher_(watcher), histories_(new RunHistories(connection, watcher, this)) {
    list_ = new QListWidget;
    list_->setObjectName("compareJobs");
    list_->setMaximumWidth(260);
    note_ = new QLabel(tr("Tick two or more jobs (Space) to overlay their curves and see how their settings differ."));
    note_->setObjectName("compareNote");
    note_->setWordWrap(true);
    diff_ = new ConfigDiffModel(this);
    diffView_ = new QTableView;
    diffView_->setObjectName("compareDiff");
    diffView_->setModel(diff_);
    diffView_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    auto* chartsBox = new QWidget;
    charts_ = new QVBoxLayout(chartsBox);
    charts_->setContentsMargins(0, 0, 0, 0);
    auto* right = new QSplitter(Qt::Vertical);
    right->addWidget(chartsBox);
    right->addWidget(diffView_);
    right->setSizes({520, 260});
    auto* left = new QVBoxLayout;
    left->addWidget(new QLabel(tr("<h2>Compare runs</h2>")));
    left->addWidget(list_, 1);
    left->addWidget(note_);
    auto* layout = new QHBoxLayout(this);
    layout->addLayout(left);
    layout->addWidget(right, 1);
    connect(&jobs_, &JobsService::jobsChanged, this, &ComparePage::refillJobs);
    connect(list_, &QListWidget::itemChanged, this, &ComparePage::redraw);
    connect(histories_, &RunHistories::historiesChanged, this, &ComparePage::redraw);
    refillJobs();
    redraw();
}

void ComparePage::refillJobs() {
    const QStringList checked = checkedJobs();
    QSignalBlocker block(list_);
    list_->clear();
    for (const auto& j : jobs_.jobs()) {
        const QString id = QString::fromStdString(j.job_id());
        auto* item = new QListWidgetItem(
            tr("Job %1 %2 (%3)").arg(id, QString::fromStdString(j.name()), requester::jobStateName(j.state())), list_);
        item->setData(Qt::UserRole, id);
        item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
        item->setCheckState(checked.contains(id) ? Qt::Checked : Qt::Unchecked);
    }
}

QStringList ComparePage::checkedJobs() const {
    QStringList ids;
    for (int i = 0; i < list_->count(); ++i)
        if (list_->item(i)->checkState() == Qt::Checked) ids << list_->item(i)->data(Qt::UserRole).toString();
    return ids;
}

void ComparePage::compare(const QStringList& jobIds) {
    QSignalBlocker block(list_);
    for (int i = 0; i < list_->count(); ++i)
        list_->item(i)->setCheckState(jobIds.contains(list_->item(i)->data(Qt::UserRole).toString()) ? Qt::Checked
                                                                                                     : Qt::Unchecked);
    redraw();
}

void ComparePage::redraw() {
    // The number of lines changes with the choice: new charts each time (a few series, cheap).
    delete loss_;
    delete accuracy_;
    loss_ = new MetricChart(tr("Training loss (smoothed)"), tr("loss"));
    loss_->setObjectName("compareLoss");
    accuracy_ = new MetricChart(tr("Test accuracy"), tr("%"));
    accuracy_->setObjectName("compareAccuracy");
    charts_->addWidget(loss_);
    charts_->addWidget(accuracy_);

    const QStringList ids = checkedJobs();
    histories_->setJobs(ids);
    QStringList titles, missing;
    std::vector<QJsonObject> configs;
    for (int i = 0; i < ids.size(); ++i) {
        const QString& id = ids[i];
        const JobHistory* history = histories_->history(id);
        const wire::JobInfo* job = jobs_.job(id);
        const QString title = tr("job %1%2").arg(id, job ? " " + QString::fromStdString(job->name()) : QString());
        titles << title;
        configs.push_back(job ? describeJob(*job, jobs_.configOf(id)) : jobs_.configOf(id));
        if (!history || history->metrics().empty()) missing << id;
        QList<QPointF> loss, accuracy;
        double ema = 0, debias = 0;
        static const std::vector<MetricPoint> none;
        for (const MetricPoint& p : history ? history->metrics() : none) {
            // The watch page's default smoothing, debiased at the start.
            ema = 0.8 * ema + 0.2 * p.trainLoss;
            debias = 0.8 * debias + 0.2;
            loss << QPointF(double(p.step), ema / debias);
            if (p.evalAccuracy) accuracy << QPointF(double(p.step), 100 * *p.evalAccuracy);
        }
        const int l = loss_->addLine(title, runColour(i));
        loss_->setPoints(l, loss);
        const int a = accuracy_->addLine(title, runColour(i));
        accuracy_->setPoints(a, accuracy);
    }
    for (MetricChart* c : {loss_, accuracy_}) {
        c->setXTitle(tr("step"));
        c->fitAxes();
    }
    diff_->setJobs(titles, configs);
    if (ids.size() < 2)
        note_->setText(tr("Tick two or more jobs (Space) to overlay their curves and see how their settings differ."));
    else if (!missing.isEmpty())
        note_->setText(histories_->fetching() > 0
                           ? tr("Fetching the history of job %1 from the coordinator…").arg(missing.join(", "))
                           : tr("No training steps yet for job %1.").arg(missing.join(", ")));
    else
        note_->setText(tr("Settings that differ are in bold."));
}

}  // namespace raven::console
