#include "WatchPage.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonObject>
#include <QLabel>
#include <QListWidget>
#include <QSlider>
#include <QSortFilterProxyModel>
#include <QStyle>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>
#include <algorithm>

#include "CreditsText.h"
#include "JobContributorsModel.h"
#include "JobHistory.h"
#include "JobSettings.h"
#include "JobWatcher.h"
#include "JobsService.h"
#include "MetricChart.h"
#include "requester/Credits.h"

namespace raven::console {

namespace {
enum XAxis { ByStep, BySamples, ByEpoch, ByMinutes };
}

WatchPage::WatchPage(JobWatcher& watcher, JobsService& jobs, QWidget* parent)
    : QWidget(parent), watcher_(watcher), jobs_(jobs) {
    header_ = new QLabel(tr("Open a job on the Jobs page to watch it."));
    header_->setObjectName("watchHeader");
    header_->setWordWrap(true);
    problem_ = new QLabel;
    problem_->setObjectName("watchProblem");
    problem_->setWordWrap(true);
    problem_->setStyleSheet("color: #b00020");
    problem_->hide();
    xAxis_ = new QComboBox;
    xAxis_->setObjectName("watchXAxis");
    xAxis_->addItems({tr("Step"), tr("Samples seen"), tr("Epoch"), tr("Wall time (minutes)")});
    smoothing_ = new QSlider(Qt::Horizontal);
    smoothing_->setObjectName("watchSmoothing");
    smoothing_->setRange(0, 99);
    smoothing_->setValue(80);
    smoothing_->setMaximumWidth(200);
    smoothingValue_ = new QLabel;
    logScale_ = new QCheckBox(tr("&Log scale"));
    logScale_->setObjectName("watchLogScale");
    auto* controls = new QHBoxLayout;
    auto* xLabel = new QLabel(tr("&X axis:"));
    xLabel->setBuddy(xAxis_);
    auto* sLabel = new QLabel(tr("&Smoothing:"));
    sLabel->setBuddy(smoothing_);
    controls->addWidget(xLabel);
    controls->addWidget(xAxis_);
    controls->addSpacing(16);
    controls->addWidget(sLabel);
    controls->addWidget(smoothing_);
    controls->addWidget(smoothingValue_);
    controls->addSpacing(16);
    controls->addWidget(logScale_);
    controls->addStretch();
    controls->addWidget(new QLabel(tr("<small>drag to zoom, right click or Home to zoom out, arrows to pan</small>")));

    loss_ = new MetricChart(tr("Training loss"), tr("loss"), true);
    loss_->setObjectName("lossChart");
    lossRaw_ = loss_->addLine(tr("train (raw)"), QColor(30, 100, 200), true);
    lossSmooth_ = loss_->addLine(tr("train (smoothed)"), QColor(30, 100, 200));
    lossEval_ = loss_->addLine(tr("test"), QColor(200, 50, 50), false, true);
    accuracy_ = new MetricChart(tr("Test accuracy"), tr("%"));
    accuracy_->setObjectName("accuracyChart");
    accuracyLine_ = accuracy_->addLine(tr("test accuracy"), QColor(40, 150, 60));
    throughput_ = new MetricChart(tr("Throughput"), tr("samples/s"));
    throughput_->setObjectName("throughputChart");
    throughputLine_ = throughput_->addLine(tr("samples/s"), QColor(120, 60, 170));
    credits_ = new MetricChart(tr("Credits"), tr("credits"));
    credits_->setObjectName("creditsChart");
    spentLine_ = credits_->addLine(tr("spent"), QColor(200, 120, 0));
    budgetLine_ = credits_->addLine(tr("budget"), QColor(120, 120, 120), false, true);
    forecastLine_ = credits_->addLine(tr("forecast to the end"), QColor(200, 120, 0), true, true);

    events_ = new QListWidget;
    events_->setObjectName("watchEvents");
    events_->setMaximumHeight(150);

    contributors_ = new JobContributorsModel(watcher_, this);
    auto* sorted = new QSortFilterProxyModel(this);
    sorted->setSourceModel(contributors_);
    sorted->setSortRole(JobContributorsModel::SortRole);
    contributorsTable_ = new QTableView;
    contributorsTable_->setObjectName("watchContributors");
    contributorsTable_->setModel(sorted);
    contributorsTable_->setSortingEnabled(true);
    contributorsTable_->sortByColumn(JobContributorsModel::Share, Qt::DescendingOrder);
    contributorsTable_->setSelectionBehavior(QAbstractItemView::SelectRows);
    contributorsTable_->verticalHeader()->hide();
    // The figures keep the width of their headings; the name takes what is left, elided in the
    // middle so that both of its ends stay readable.
    contributorsTable_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    contributorsTable_->horizontalHeader()->setSectionResizeMode(JobContributorsModel::Contributor,
                                                                 QHeaderView::Stretch);
    contributorsTable_->setTextElideMode(Qt::ElideMiddle);
    // Half the window is too narrow for that on a 1024-pixel screen: the table asks for its figures'
    // width, 16 characters of a name and a scroll bar, whatever the font; the events take the rest.
    int figuresWidth = 0;
    for (int c = JobContributorsModel::Units; c < JobContributorsModel::ColumnCount; ++c)
        figuresWidth += contributorsTable_->horizontalHeader()->sectionSizeHint(c);
    contributorsTable_->setMinimumWidth(figuresWidth + 16 * fontMetrics().averageCharWidth() +
                                        style()->pixelMetric(QStyle::PM_ScrollBarExtent) +
                                        2 * contributorsTable_->frameWidth());
    contributorsTable_->setMaximumHeight(150);
    contributorsSummary_ = new QLabel;
    contributorsSummary_->setObjectName("watchContributorsSummary");
    contributorsSummary_->setWordWrap(true);
    auto updateSummary = [this] { contributorsSummary_->setText(contributors_->summary()); };
    connect(contributors_, &QAbstractItemModel::modelReset, this, updateSummary);
    connect(contributors_, &QAbstractItemModel::dataChanged, this, updateSummary);
    updateSummary();

    auto* grid = new QGridLayout;
    grid->addWidget(loss_, 0, 0);
    grid->addWidget(accuracy_, 0, 1);
    grid->addWidget(throughput_, 1, 0);
    grid->addWidget(credits_, 1, 1);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(header_);
    layout->addWidget(problem_);
    layout->addLayout(controls);
    layout->addLayout(grid, 1);
    auto* below = new QGridLayout;
    auto* eventsLabel = new QLabel(tr("E&vents:"));
    eventsLabel->setBuddy(events_);
    auto* contributorsLabel = new QLabel(tr("Who computed this &job:"));
    contributorsLabel->setBuddy(contributorsTable_);
    below->addWidget(eventsLabel, 0, 0);
    below->addWidget(events_, 1, 0);
    below->addWidget(contributorsLabel, 0, 1);
    below->addWidget(contributorsTable_, 1, 1);
    below->addWidget(contributorsSummary_, 2, 1);
    below->setColumnStretch(0, 1);
    below->setColumnStretch(1, 1);
    layout->addLayout(below);

    redrawSoon_ = new QTimer(this);
    redrawSoon_->setSingleShot(true);
    redrawSoon_->setInterval(250);
    connect(redrawSoon_, &QTimer::timeout, this, &WatchPage::redraw);
    connect(&watcher_, &JobWatcher::historyChanged, this, [this] {
        // A job just opened is drawn at once; what follows is gathered.
        if (watcher_.jobId() != drawnJob_) return redraw();
        if (!redrawSoon_->isActive()) redrawSoon_->start();
    });
    connect(&jobs_, &JobsService::jobsChanged, this, &WatchPage::updateHeader);
    // A history that cannot be written (a full disk) or a job the coordinator refuses to stream:
    // said above the charts, which keep what they have.
    connect(&watcher_, &JobWatcher::problem, this, [this](const QString& message) {
        problem_->setText("⚠ " + message);
        problem_->show();
    });
    connect(xAxis_, &QComboBox::currentIndexChanged, this, &WatchPage::redraw);
    connect(smoothing_, &QSlider::valueChanged, this, &WatchPage::redraw);
    connect(logScale_, &QCheckBox::toggled, this, [this](bool on) {
        loss_->setLogY(on);
        throughput_->setLogY(on);
        redraw();
    });
    redraw();
}

void WatchPage::updateHeader() {
    const JobHistory* h = watcher_.history();
    const wire::JobInfo* job = h ? jobs_.job(h->jobId()) : nullptr;
    if (!h) {
        header_->setText(tr("Open a job on the Jobs page to watch it."));
        return;
    }
    if (!job) {
        header_->setText(tr("<b>Job %1</b> (waiting for the coordinator)").arg(h->jobId()));
        return;
    }
    QString eta;
    const auto& m = h->metrics();
    if (m.size() >= 2 && !requester::isFinished(job->state()) && job->total_steps() > job->step()) {
        // The pace of the last steps seen (up to 50), so that a change of fleet shows soon.
        const std::size_t from = m.size() > 50 ? m.size() - 50 : 0;
        const double steps = double(m.back().step - m[from].step);
        const double ms = double(m.back().timeMs - m[from].timeMs);
        if (steps > 0 && ms > 0) {
            const double seconds = double(job->total_steps() - job->step()) * ms / steps / 1000.0;
            eta = seconds < 90 ? tr(", about %1 s to go").arg(qRound(seconds))
                               : tr(", about %1 min to go").arg(qRound(seconds / 60));
        }
    }
    if (!m.empty() && m.back().learningRate)
        eta += tr("; learning rate %1 at step %2").arg(*m.back().learningRate, 0, 'g', 4).arg(m.back().step);
    header_->setText(
        tr("<b>Job %1 \"%2\"</b>: %3, step %4 of %5, %6 of %7 credits spent%8")
            .arg(h->jobId(), QString::fromStdString(job->name()).toHtmlEscaped(), requester::jobStateName(job->state()))
            .arg(job->step())
            .arg(job->total_steps())
            .arg(app::creditsAmount(job->spent_micro_credits()), app::creditsAmount(job->budget_micro_credits()), eta));
}

void WatchPage::redraw() {
    const double alpha = smoothing_->value() / 100.0;
    smoothingValue_->setText(QString::number(alpha, 'f', 2));
    const int axis = xAxis_->currentIndex();
    const bool byTime = axis == ByMinutes;
    // Samples and epochs from the step: step x batch samples, an epoch per training split. The batch
    // comes with every job from the coordinator; the training split's size only with jobs submitted
    // from this console (their settings are kept), so others are drawn by samples but not by epoch.
    const wire::JobInfo* info = jobs_.job(watcher_.jobId());
    const QJsonObject recorded = jobs_.configOf(watcher_.jobId());
    const QJsonObject config = info ? describeJob(*info, recorded) : recorded;
    const double batch = config["batch"].toDouble(), trainSamples = config["training samples"].toDouble();
    double scale = 1;
    QString xTitle = byTime ? tr("minutes") : tr("step");
    if (axis == BySamples && batch > 0) {
        scale = batch;
        xTitle = tr("samples seen");
    } else if (axis == ByEpoch && batch > 0 && trainSamples > 0) {
        scale = batch / trainSamples;
        xTitle = tr("epoch");
    } else if (axis == BySamples || axis == ByEpoch) {
        xTitle = tr("step (the size of the training split of a job submitted elsewhere is not known here)");
    }
    for (MetricChart* c : {loss_, accuracy_, throughput_, credits_}) c->setXTitle(xTitle);
    if (drawnJob_ != watcher_.jobId()) problem_->hide();
    drawnJob_ = watcher_.jobId();
    const JobHistory* h = watcher_.history();
    QList<QPointF> raw, smooth, evalLoss, accuracy, throughput, spent, budget, forecast, markers;
    QStringList tips;
    events_->clear();
    if (h) {
        const auto& m = h->metrics();
        const std::int64_t t0 = !m.empty() ? m.front().timeMs : (h->spend().empty() ? 0 : h->spend().front().timeMs);
        auto xOf = [&](std::uint64_t step, std::int64_t timeMs) {
            return byTime ? double(timeMs - t0) / 60000.0 : double(step) * scale;
        };
        raw.reserve(qsizetype(m.size()));
        smooth.reserve(qsizetype(m.size()));
        double ema = 0;
        double debias = 0;
        for (const MetricPoint& p : m) {
            const double x = xOf(p.step, p.timeMs);
            raw << QPointF(x, p.trainLoss);
            // TensorBoard's smoothing: an exponential moving average, debiased at the start.
            ema = alpha * ema + (1 - alpha) * p.trainLoss;
            debias = alpha * debias + (1 - alpha);
            smooth << QPointF(x, ema / debias);
            throughput << QPointF(x, p.samplesPerSecond);
            if (p.evalLoss) evalLoss << QPointF(x, *p.evalLoss);
            if (p.evalAccuracy) accuracy << QPointF(x, 100 * *p.evalAccuracy);
        }
        for (const SpendPoint& s : h->spend()) {
            spent << QPointF(xOf(s.step, s.timeMs), double(s.spent) / double(requester::kMicroCreditsPerCredit));
            budget << QPointF(xOf(s.step, s.timeMs), double(s.budget) / double(requester::kMicroCreditsPerCredit));
        }
        const wire::JobInfo* job = jobs_.job(h->jobId());
        if (job && !byTime && job->step() > 0 && !spent.isEmpty() && !requester::isFinished(job->state())) {
            // Spend so far per step, carried to the last step.
            const double perStep = spent.back().y() / double(job->step());
            const double end = double(job->total_steps()) * scale;
            forecast << spent.back() << QPointF(end, perStep * double(job->total_steps()));
            budget << QPointF(end, budget.back().y());
        }
        for (const EventPoint& e : h->events()) {
            // On the smoothed curve at the event's step (the last point at or before it).
            const auto after = std::upper_bound(m.begin(), m.end(), e.step,
                                                [](std::uint64_t step, const MetricPoint& p) { return step < p.step; });
            const auto at = qsizetype(after - m.begin()) - 1;
            const double y = smooth.isEmpty() ? 0 : smooth[std::max<qsizetype>(at, 0)].y();
            const double x = xOf(e.step, e.timeMs);
            markers << QPointF(x, y);
            const QString when = QDateTime::fromMSecsSinceEpoch(e.timeMs).toString("HH:mm:ss");
            tips << tr("%1 (step %2): %3").arg(when).arg(e.step).arg(e.message);
            events_->addItem(tr("%1  step %2  %3: %4").arg(when).arg(e.step).arg(eventKindName(e.kind), e.message));
        }
        events_->scrollToBottom();
    }
    loss_->setPoints(lossRaw_, raw);
    loss_->setPoints(lossSmooth_, smooth);
    loss_->setPoints(lossEval_, evalLoss);
    loss_->setMarkers(markers, tips);
    accuracy_->setPoints(accuracyLine_, accuracy);
    throughput_->setPoints(throughputLine_, throughput);
    credits_->setPoints(spentLine_, spent);
    credits_->setPoints(budgetLine_, budget);
    credits_->setPoints(forecastLine_, forecast);
    for (MetricChart* c : {loss_, accuracy_, throughput_, credits_}) c->fitAxes();
    updateHeader();
}

}  // namespace raven::console
