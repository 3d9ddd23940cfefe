#include "DashboardPage.h"

#include <QBarCategoryAxis>
#include <QBarSeries>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QGridLayout>
#include <QGroupBox>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>
#include <QValueAxis>

#include "ContributorApp.h"

namespace raven::contributor {

namespace {

QLabel* figureLabel(const char* name, QWidget* parent) {
    auto* l = new QLabel(parent);
    l->setObjectName(QString::fromLatin1(name));
    l->setTextInteractionFlags(Qt::TextSelectableByMouse);
    l->setWordWrap(true);
    return l;
}

}  // namespace

DashboardPage::DashboardPage(ContributorApp& app, QWidget* parent) : QWidget(parent), app_(app) {
    setObjectName("dashboardPage");
    auto* layout = new QVBoxLayout(this);

    auto* top = new QHBoxLayout;
    auto* workBox = new QGroupBox(tr("Now"), this);
    auto* workLayout = new QVBoxLayout(workBox);
    work_ = figureLabel("currentWork", workBox);
    workLayout->addWidget(work_);
    connection_ = figureLabel("connectionState", workBox);
    workLayout->addWidget(connection_);
    top->addWidget(workBox, 3);

    auto* totalsBox = new QGroupBox(tr("Your contribution (from the coordinator's ledger)"), this);
    auto* totals = new QGridLayout(totalsBox);
    totals->addWidget(new QLabel(tr("Today:"), totalsBox), 0, 0, Qt::AlignTop);
    today_ = figureLabel("todayFigures", totalsBox);
    totals->addWidget(today_, 0, 1);
    totals->addWidget(new QLabel(tr("All time:"), totalsBox), 1, 0, Qt::AlignTop);
    allTime_ = figureLabel("allTimeFigures", totalsBox);
    totals->addWidget(allTime_, 1, 1);
    asOf_ = figureLabel("figuresAsOf", totalsBox);
    totals->addWidget(asOf_, 2, 0, 1, 2);
    top->addWidget(totalsBox, 4);
    layout->addLayout(top);

    auto* chart = new QChart;
    chart->setTitle(tr("Credits earned per day, last 30 days"));
    chart->legend()->hide();
    chart->setMargins(QMargins(4, 4, 4, 4));
    bars_ = new QBarSet(tr("Credits"));
    bars_->setColor(QColor(0x2e, 0x9d, 0x4f));
    auto* series = new QBarSeries;
    series->append(bars_);
    chart->addSeries(series);
    days_ = new QBarCategoryAxis;
    credits_ = new QValueAxis;
    credits_->setLabelFormat(QStringLiteral("%.3g"));
    chart->addAxis(days_, Qt::AlignBottom);
    chart->addAxis(credits_, Qt::AlignLeft);
    series->attachAxis(days_);
    series->attachAxis(credits_);
    chartView_ = new QChartView(chart, this);
    chartView_->setObjectName("creditsChart");
    chartView_->setRenderHint(QPainter::Antialiasing);
    chartView_->setMinimumHeight(220);
    layout->addWidget(chartView_, 3);

    auto* lower = new QTabWidget(this);
    lower->setObjectName("dashboardTabs");
    units_ = new QTableView(lower);
    units_->setObjectName("recentUnits");
    units_->setModel(&app_.recentUnits());
    units_->verticalHeader()->hide();
    units_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    units_->horizontalHeader()->setStretchLastSection(true);
    units_->setSelectionBehavior(QAbstractItemView::SelectRows);
    lower->addTab(units_, tr("Recent work units"));

    auto* logTab = new QWidget(lower);
    auto* logLayout = new QVBoxLayout(logTab);
    logFilterEdit_ = new QLineEdit(logTab);
    logFilterEdit_->setObjectName("logFilter");
    logFilterEdit_->setPlaceholderText(tr("Filter the log (e.g. \"unit\", \"refused\", \"paused\")"));
    logFilterEdit_->setClearButtonEnabled(true);
    logLayout->addWidget(logFilterEdit_);
    logFilter_ = new LogFilter(app_.log(), this);
    log_ = new QListView(logTab);
    log_->setObjectName("logView");
    log_->setModel(logFilter_);
    log_->setUniformItemSizes(true);
    logLayout->addWidget(log_);
    connect(logFilterEdit_, &QLineEdit::textChanged, logFilter_, &LogFilter::setText);
    lower->addTab(logTab, tr("Log"));
    layout->addWidget(lower, 2);

    connect(&app_.service(), &ContributionService::workChanged, this, &DashboardPage::refreshWork);
    connect(&app_.service(), &ContributionService::decisionChanged, this, &DashboardPage::refreshWork);
    connect(&app_.credits(), &CreditsModel::totalsChanged, this, &DashboardPage::refreshTotals);
    connect(&app_.credits(), &QAbstractItemModel::modelReset, this, &DashboardPage::refreshChart);
    connect(&app_.ledger(), &LedgerStats::connectionChanged, this, &DashboardPage::refreshConnection);
    // The busy share and the backoff countdown move with the clock.
    auto* tick = new QTimer(this);
    connect(tick, &QTimer::timeout, this, [this] {
        refreshWork();
        refreshConnection();
    });
    tick->start(1000);
    refreshWork();
    refreshTotals();
    refreshChart();
    refreshConnection();
}

void DashboardPage::refreshWork() {
    const ContributionService& s = app_.service();
    QStringList lines;
    lines << QStringLiteral("<b>%1</b>").arg(s.statusSentence().toHtmlEscaped());
    if (!s.currentUnit().isEmpty())
        lines << tr("Computing work unit %1 of job %2").arg(s.currentUnit(), s.currentJob());
    if (!s.deviceSummary().isEmpty()) lines << tr("Device: %1").arg(s.deviceSummary().toHtmlEscaped());
    const double sps = app_.recentUnits().lastSamplesPerSecond();
    if (sps > 0) lines << tr("Speed: %1 samples/s (last unit)").arg(QString::number(sps, 'f', 0));
    const double busy = s.busyShare();
    if (busy >= 0)
        lines << tr("Busy share, last minute: %1% (GPU cap %2%)")
                     .arg(QString::number(busy * 100.0, 'f', 0))
                     .arg(s.decision().computing() ? s.decision().gpuPercent
                                                   : app_.config().get(ConfigKey::GpuCapPercent).toInt());
    const Temperature& heat = s.temperature();
    const int heatCap = app_.config().get(ConfigKey::TemperatureCapCelsius).toInt();
    const QString capText = heatCap > 0 ? tr(", cap %1 C").arg(heatCap) : tr(", no cap");
    if (heat.celsius)
        lines << tr("Temperature: %1 %2 C (%3)%4")
                     .arg(s.heatDevice())
                     .arg(qRound(*heat.celsius))
                     .arg(heat.source.toHtmlEscaped(), capText);
    else if (!heat.absence.isEmpty())
        lines << tr("Temperature: no sensor (%1)%2").arg(heat.absence.toHtmlEscaped(), capText);
    const qint64 transferCap = qint64(app_.config().get(ConfigKey::DailyTransferMegabytes).toInt()) * 1000000;
    lines << (transferCap > 0 ? tr("Transferred today: %1 of %2")
                                    .arg(ComputePolicy::bytes(s.transferredToday()), ComputePolicy::bytes(transferCap))
                              : tr("Transferred today: %1 (no cap)").arg(ComputePolicy::bytes(s.transferredToday())));
    const auto& session = s.sessionStats();
    lines << tr("Since the app started: %1 units accepted, %2")
                 .arg(session.unitsAccepted)
                 .arg(CreditsModel::creditsText(session.microCredits));
    work_->setText(lines.join(QStringLiteral("<br>")));
}

void DashboardPage::refreshTotals() {
    const CreditsModel::Totals& t = app_.credits().totals();
    if (!t.known) {
        today_->setText(tr("—"));
        allTime_->setText(tr("—"));
        asOf_->setText(app_.config().isSetUp() ? tr("Waiting for the coordinator's figures…")
                                               : tr("Set up a coordinator to see your figures."));
        return;
    }
    today_->setText(tr("%1 work units, %2").arg(t.todayUnits).arg(CreditsModel::creditsText(t.todayMicroCredits)));
    // Earned is what the volunteer may spend; the coordinator checks some results before paying.
    allTime_->setText(tr("%1 work units accepted, %2 rejected, %3 duplicate<br>%4 of training work<br>"
                         "Earned: <b>%5</b><br>Pending verification: %6<br>Withheld (failed checks): %7"
                         "<br>Current rate: %8 credits/hour")
                          .arg(t.unitsAccepted)
                          .arg(t.unitsRejected)
                          .arg(t.unitsDuplicate)
                          .arg(CreditsModel::flopsText(t.flops), CreditsModel::creditsText(t.microCredits),
                               CreditsModel::creditsText(t.pendingMicroCredits),
                               CreditsModel::creditsText(t.revokedMicroCredits),
                               QString::number(app_.recentUnits().creditsPerHour(), 'f', 4)));
    const QString at = t.fetchedAt.toString(QStringLiteral("ddd HH:mm:ss"));
    asOf_->setText(t.offline ? tr("<b>Offline</b>: these are the last figures, fetched %1.").arg(at)
                             : tr("Fetched %1.").arg(at));
}

void DashboardPage::refreshChart() {
    const CreditsModel& m = app_.credits();
    bars_->remove(0, bars_->count());
    QStringList labels;
    double top = 0.0;
    for (int r = 0; r < m.rowCount(); ++r) {
        *bars_ << m.credits(r);
        top = std::max(top, m.credits(r));
        // Every fifth day and today, by day of the month (a date is wider than a bar); categories
        // must differ, so the unlabelled ones are blanks of different lengths.
        labels << ((r % 5 == 4 || r == m.rowCount() - 1) ? QString::number(m.day(r).day())
                                                         : QString(r + 1, QLatin1Char(' ')));
    }
    days_->clear();
    days_->append(labels);
    days_->setTitleText(m.rowCount() > 0
                            ? tr("day of the month (UTC), %1 to %2")
                                  .arg(m.day(0).toString(Qt::ISODate), m.day(m.rowCount() - 1).toString(Qt::ISODate))
                            : QString());
    credits_->setRange(0.0, top > 0 ? top * 1.1 : 1.0);
}

void DashboardPage::refreshConnection() {
    connection_->setText(tr("Coordinator: %1").arg(app_.ledger().connectionSentence().toHtmlEscaped()));
    refreshTotals();
}

QList<double> DashboardPage::chartValues() const {
    QList<double> out;
    for (int i = 0; i < bars_->count(); ++i) out << bars_->at(i);
    return out;
}

}  // namespace raven::contributor
